r"""p-median: open p new sites so that the population-weighted travel time is least.

Why: the p-median is the efficiency model of location planning - with a fixed number of
new service points (insurance service points, clinics), where do residents, on average,
travel least? It answers "where" for a given number of new sites; the p-center
(:mod:`geoplan.optimize.center`) answers the equity question (the worst-off resident).

The model is solved **exactly** from a sparse time matrix: the radius formulation
(Cornuejols, Nemhauser & Wolsey 1980; Elloumi 2010) by Benders decomposition with
closed-form cuts (Duran-Mateluna, Ales & Elloumi 2023), after exact merging of demand
rows: the LP relaxation on a persistent HiGHS model (its bound and reduced costs fix
candidates), then the master MILP with the chosen solver. The mathematics, and what each
step proves, is in :func:`p_median`.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pulp
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from geoplan._errors import GeoplanInputError, GeoplanWarning

from .covering import gis_site_rules
from .gis import coverage_by_unit, plan_sites
from .plan import Plan, Reduction
from .site_rules import check_site_rules
from .solver import (
    FEASIBLE,
    INFEASIBLE,
    NOT_SOLVED,
    OPTIMAL,
    P_MEDIAN_SOLVER,
    Deadline,
    SolveInfo,
    _highs_version,
    configure,
    new_highs,
    run_highs,
    solve,
    time_left,
    with_true_objective,
)

__all__ = ["p_median", "p_median_from_problem"]


# --------------------------------------------------------------------------------------
# input checks shared with geoplan.optimize.center


@dataclass
class _Rows:
    """A demand x site time matrix as per-row lists sorted by time (private).

    ``row``, ``col`` and ``t`` are the stored (reachable) pairs sorted by row, then time,
    then column; ``indptr`` delimits each row. Missing pairs are unreachable.
    """

    n: int
    m: int
    indptr: NDArray[np.int64]
    row: NDArray[np.int64]
    col: NDArray[np.int64]
    t: NDArray[np.float64]


def _sorted_rows(times: Any, name: str = "times") -> _Rows:
    """Validate a dense or sparse time matrix and sort each row by time."""
    if sp.issparse(times):
        csr = sp.csr_matrix(times)
        n, m = csr.shape
        c = csr.indices.astype(np.int64)
        t = np.asarray(csr.data, dtype=np.float64)
        r = np.repeat(np.arange(n, dtype=np.int64), np.diff(csr.indptr))
        if np.isnan(t).any():
            raise GeoplanInputError(f"{name} has NaN entries", field=name,
                                    hint="store only reachable pairs; leave others out")
        if (t < 0).any():
            raise GeoplanInputError(f"{name} has negative travel times (min {t.min():g})",
                                    field=name)
        keep = np.isfinite(t)
        if not keep.all():
            r, c, t = r[keep], c[keep], t[keep]
        if not csr.has_canonical_format:
            # duplicate pairs (non-canonical sparse input): keep the shortest time
            o = np.lexsort((t, c, r))
            r, c, t = r[o], c[o], t[o]
            first = np.ones(r.size, dtype=bool)
            first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
            r, c, t = r[first], c[first], t[first]
    else:
        try:
            a = np.asarray(times, dtype=np.float64)
        except (TypeError, ValueError):
            raise GeoplanInputError(f"{name} must be a numeric 2-D array or a scipy "
                                    "sparse matrix", field=name) from None
        if a.ndim != 2:
            raise GeoplanInputError(f"{name} must be 2-D (demands x sites), got shape "
                                    f"{a.shape}", field=name)
        n, m = a.shape
        if np.isnan(a).any():
            raise GeoplanInputError(f"{name} has NaN entries", field=name,
                                    hint="use inf for unreachable pairs")
        if (a < 0).any():
            raise GeoplanInputError(f"{name} has negative travel times (min {a.min():g})",
                                    field=name)
        r, c = np.nonzero(np.isfinite(a))
        r, c = r.astype(np.int64), c.astype(np.int64)
        t = a[r, c]
    if n == 0 or m == 0:
        raise GeoplanInputError(f"{name} is empty (shape {n} x {m})", field=name)
    # sort each row by time; the input is by row then column, and stable sorts keep
    # ties in column order
    o = np.argsort(t, kind="stable")
    o = o[np.argsort(r[o], kind="stable")]
    r, c, t = r[o], c[o], t[o]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
    return _Rows(n=int(n), m=int(m), indptr=indptr, row=r, col=c, t=t)


def _check_weights(weights: Any, n: int, *, required: bool = True) -> NDArray[np.float64]:
    """Demand weights as float64 (length ``n``, finite, >= 0); ones when None allowed."""
    if weights is None:
        if required:
            raise GeoplanInputError("weights are required (population per demand row)",
                                    field="weights")
        return np.ones(n, dtype=np.float64)
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise GeoplanInputError("weights must be numbers", field="weights") from None
    if w.ndim != 1 or w.size != n:
        raise GeoplanInputError(f"weights has shape {w.shape} but times has {n} demand rows",
                                field="weights", hint="one weight per row of times")
    bad = ~np.isfinite(w)
    if bad.any():
        raise GeoplanInputError(f"weights has {int(bad.sum())} NaN/inf values (first at "
                                f"row {int(np.flatnonzero(bad)[0])})", field="weights")
    if (w < 0).any():
        raise GeoplanInputError(f"weights has negative values (first at row "
                                f"{int(np.flatnonzero(w < 0)[0])})", field="weights")
    if not w.sum() > 0:
        raise GeoplanInputError("weights sum to zero: there is no demand", field="weights")
    return w


def _check_existing(existing: Any, m: int) -> NDArray[np.intp]:
    """Existing (fixed open) site columns as sorted unique indices."""
    if existing is None:
        return np.zeros(0, dtype=np.intp)
    e = np.asarray(existing)
    if e.dtype == bool:
        raise GeoplanInputError("existing must be column indices, not a boolean mask",
                                field="existing", hint="pass np.flatnonzero(mask)")
    e = e.ravel()
    if e.size == 0:
        return np.zeros(0, dtype=np.intp)
    if not np.issubdtype(e.dtype, np.integer):
        try:
            ei = e.astype(np.int64)
        except (TypeError, ValueError):
            raise GeoplanInputError("existing must be integer column indices",
                                    field="existing") from None
        if not np.array_equal(ei, e):
            raise GeoplanInputError("existing must be integer column indices",
                                    field="existing")
        e = ei
    if e.min() < 0 or e.max() >= m:
        raise GeoplanInputError(f"existing has column indices outside 0..{m - 1}",
                                field="existing")
    u = np.unique(e)
    if u.size != e.size:
        raise GeoplanInputError("existing lists a column more than once", field="existing")
    return u.astype(np.intp)


def _check_p(p: Any, n_candidates: int, n_existing: int) -> int:
    """Check ``p``: an integer in 0..n_candidates leaving at least one site open."""
    if isinstance(p, bool) or not isinstance(p, int | np.integer):
        raise GeoplanInputError(f"p must be an integer number of new sites, got {p!r}",
                                field="p")
    p = int(p)
    if p < 0:
        raise GeoplanInputError(f"p must be >= 0, got {p}", field="p")
    if p > n_candidates:
        raise GeoplanInputError(f"p = {p} is larger than the {n_candidates} candidate "
                                "columns (columns not listed in existing)", field="p")
    if p + n_existing == 0:
        raise GeoplanInputError("p = 0 and no existing sites: nothing would be open",
                                field="p")
    return p


def _nearest_open(rows: _Rows, is_open: NDArray[np.bool_]) -> tuple[NDArray[np.float64],
                                                                    NDArray[np.intp]]:
    """Time to and column of the nearest open site per row (inf / -1 when none)."""
    t = np.full(rows.n, np.inf)
    j = np.full(rows.n, -1, dtype=np.intp)
    e = np.flatnonzero(is_open[rows.col])
    if e.size:
        r = rows.row[e]
        first = np.ones(e.size, dtype=bool)
        first[1:] = r[1:] != r[:-1]
        t[r[first]] = rows.t[e[first]]
        j[r[first]] = rows.col[e[first]]
    return t, j


def _unreachable_error(count: int, n: int, weight: float, what: str) -> GeoplanInputError:
    return GeoplanInputError(
        f"{count:,} of {n:,} demand rows (weight {weight:,.6g}) {what}",
        field="times",
        hint="raise the travel-time cut-off, add candidate sites near them, drop those "
             "rows (or give them weight 0), or pass unassigned_time= to charge them a "
             "fixed time")


def _rel_gap(obj: float, bound: float) -> float:
    """Relative gap ``(obj - bound) / |obj|`` of a minimisation; 0 below 1e-9."""
    if not (math.isfinite(obj) and math.isfinite(bound)):
        return math.nan
    g = (obj - bound) / max(abs(obj), 1e-9)
    return 0.0 if g < 1e-9 else float(g)


def _check_unassigned(value: Any, rows: _Rows) -> float:
    """``unassigned_time`` as a float (inf for None); must be >= every stored time."""
    if value is None:
        return math.inf
    try:
        u = float(value)
    except (TypeError, ValueError):
        raise GeoplanInputError(f"unassigned_time must be a number, got {value!r}",
                                field="unassigned_time") from None
    top = float(rows.t.max(initial=0.0))
    if not (math.isfinite(u) and u >= top):
        raise GeoplanInputError(
            f"unassigned_time must be finite and at least the largest travel time in the "
            f"matrix ({top:g}), got {value!r}", field="unassigned_time",
            hint="use the cut-off the matrix was computed with (or a larger penalty)")
    return u



# --------------------------------------------------------------------------------------
# the decision sub-problem: rows that some candidate can serve better than their cap


@dataclass
class _Sub:
    """Demand rows that need a decision and their candidate pairs nearer than the cap.

    Entries are sorted by row, then time, then candidate; ``ptr`` delimits the rows. The
    cost of row ``i`` for a set of open candidates is ``min(cap[i], nearest open t)``
    (``cap = inf``: the row must be served by a candidate).
    """

    n: int                           # rows
    mc: int                          # candidate columns
    ptr: NDArray[np.int64]           # row i's entries are ptr[i]:ptr[i + 1]
    row: NDArray[np.int64]
    col: NDArray[np.int64]           # candidate index 0..mc-1
    t: NDArray[np.float64]
    w: NDArray[np.float64]           # weight per row
    cap: NDArray[np.float64]


def _row_ptr(row: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n), out=ptr[1:])
    return ptr


def _wsum(idx: NDArray[np.int64], weights: NDArray[np.float64],
          minlength: int) -> NDArray[np.float64]:
    """``np.bincount`` with weights, always float64 (also for empty input)."""
    return np.bincount(idx, weights=weights, minlength=minlength).astype(np.float64)


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """splitmix64 finaliser: a well-spread 64-bit hash of each value (wrapping)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _merge_rows(row, col, t, w, cap, n):
    """Merge rows that are equal up to a constant time shift (exact aggregation).

    Row ``i`` costs ``s_i + min(cap_i - s_i, nearest open (t_ij - s_i))`` with ``s_i``
    its shortest time, so rows whose shifted entries and cap coincide (e.g. cells
    snapped to the same network node, whose times differ only by their access leg)
    make the same choice: they become one row with the summed weight, and
    ``sum w_i s_i`` joins the constant. Shifted times are compared after rounding to
    ``2**-40`` of the largest time; candidates found by a 128-bit hash are verified
    entry by entry. Returns ``(row, col, t, w, cap, n, constant)``.
    """
    if n == 0:
        return row, col, t, w, cap, 0, 0.0
    ptr = _row_ptr(row, n)
    shift = t[ptr[:-1]]
    ts = t - shift[row]
    cs = cap - shift
    q = max(float(t.max(initial=0.0)), 1e-300) * 2.0 ** -40
    tq = np.rint(ts / q).astype(np.int64)
    cq = np.where(np.isfinite(cs), np.rint(np.minimum(cs, 2.0 ** 62 * q) / q), -1).astype(
        np.int64)
    key = (col.astype(np.uint64) << np.uint64(42)) ^ tq.astype(np.uint64)
    h1 = _mix(key)
    h2 = _mix(h1 ^ np.uint64(0x5851F42D4C957F2D))
    sig = np.stack([np.diff(ptr).astype(np.uint64), cq.astype(np.uint64),
                    np.add.reduceat(h1, ptr[:-1]), np.add.reduceat(h2, ptr[:-1])], axis=1)
    _, first, grp = np.unique(sig, axis=0, return_index=True, return_inverse=True)
    grp = grp.ravel()
    rep = first[grp]                                   # representative row of each row
    pos = np.arange(row.size) - ptr[row]
    other = ptr[rep[row]] + pos
    bad = (col != col[other]) | (tq != tq[other])
    if bad.any():                                      # hash collision: keep them apart
        split = np.unique(row[bad])
        grp = grp.copy()
        grp[split] = grp.max() + 1 + np.arange(split.size)
        rep = rep.copy()
        rep[split] = split
    groups, inv = np.unique(grp, return_inverse=True)
    reps = np.zeros(groups.size, dtype=np.int64)
    reps[inv] = rep
    weight = _wsum(inv, weights=w, minlength=groups.size)
    lens = np.diff(ptr)[reps]
    new_row = np.repeat(np.arange(groups.size), lens)
    offs = ptr[reps][new_row] + (np.arange(new_row.size) - (np.cumsum(lens) - lens)[new_row])
    return (new_row, col[offs], ts[offs], weight, cs[reps], int(groups.size),
            float(w @ shift))


def _sub_problem(rows: _Rows, w: NDArray[np.float64], is_ex: NDArray[np.bool_],
                 cap: NDArray[np.float64]) -> tuple[_Sub, float]:
    """Build the rows that need a decision (merged) and the objective's constant.

    Positive-weight rows that no candidate serves faster than their cap (nearest
    existing site or ``unassigned_time``) cost their cap whatever is chosen.
    """
    cand = np.flatnonzero(~is_ex)
    cidx = np.full(rows.m, -1, dtype=np.int64)
    cidx[cand] = np.arange(cand.size)
    keep = (w[rows.row] > 0) & ~is_ex[rows.col] & (rows.t < cap[rows.row])
    active, ar = np.unique(rows.row[keep], return_inverse=True)
    passive = w > 0
    passive[active] = False
    const = float(w[passive] @ cap[passive]) if passive.any() else 0.0
    r, c, t, ww, cp, n, shift = _merge_rows(ar.ravel().astype(np.int64), cidx[rows.col[keep]],
                                            rows.t[keep], w[active], cap[active],
                                            int(active.size))
    sub = _Sub(n=n, mc=int(cand.size), ptr=_row_ptr(r, n), row=r, col=c, t=t, w=ww, cap=cp)
    return sub, const + shift


def _first_second(sub: _Sub, is_open: NDArray[np.bool_], cap: NDArray[np.float64]):
    """Nearest and second-nearest open candidate time per row (``cap`` when none)."""
    c1 = cap.copy()
    c2 = cap.copy()
    a1 = np.full(sub.n, -1, dtype=np.int64)
    e = np.flatnonzero(is_open[sub.col])
    if e.size:
        r = sub.row[e]
        first = np.ones(e.size, dtype=bool)
        first[1:] = r[1:] != r[:-1]
        c1[r[first]] = sub.t[e[first]]
        a1[r[first]] = sub.col[e[first]]
        sec = np.flatnonzero(first[:-1] & (r[1:] == r[:-1])) + 1
        c2[r[sec]] = sub.t[e[sec]]
    return c1, a1, c2


def _cost(sub: _Sub, is_open: NDArray[np.bool_]) -> float:
    """Weighted cost of the sub-problem rows for the open candidates (inf if infeasible)."""
    return float(sub.w @ _first_second(sub, is_open, sub.cap)[0])


#: Largest number of p-subsets enumerated outright instead of solving the MILP.
_ENUMERATE_MAX = 5000


def _enumerate(sub: _Sub, p: int) -> NDArray[np.bool_] | None:
    """Exact optimum by evaluating every p-subset, when there are few (else None).

    With few candidates (e.g. 3 of 8 township centres to upgrade) there are fewer
    subsets than the decomposition has rows; each subset's cost is
    ``sum_i w_i min(cap_i, min_{j in S} t_ij)`` on a dense rows x candidates table,
    evaluated in vectorised chunks. Returns the cheapest subset (the first in
    lexicographic order among ties), all False if none is feasible, or None when
    enumeration would be too large.
    """
    if math.comb(sub.mc, p) > _ENUMERATE_MAX or sub.n * sub.mc > 10_000_000:
        return None
    table = np.full((sub.n, sub.mc), np.inf)
    table[sub.row, sub.col] = sub.t
    combos = np.array(list(itertools.combinations(range(sub.mc), p)), dtype=np.int64)
    chunk = max(1, 20_000_000 // max(sub.n * p, 1))
    costs = np.empty(len(combos))
    for a in range(0, len(combos), chunk):
        c = combos[a:a + chunk]
        near = np.minimum(table[:, c].min(axis=2), sub.cap[:, None])
        costs[a:a + chunk] = sub.w @ near
    out = np.zeros(sub.mc, dtype=bool)
    k = int(np.argmin(costs))
    if np.isfinite(costs[k]):
        out[combos[k]] = True
    return out


# --------------------------------------------------------------------------------------
# heuristic: greedy adding, then best-improvement vertex exchange (Teitz & Bart 1968)


def _penalised_cap(sub: _Sub) -> NDArray[np.float64]:
    finite = sub.cap[np.isfinite(sub.cap)]
    top = max(float(sub.t.max(initial=0.0)), float(finite.max(initial=0.0)))
    return np.where(np.isfinite(sub.cap), sub.cap, 1e3 * (top + 1.0))


def _greedy(sub: _Sub, p: int, max_s: float) -> NDArray[np.bool_]:
    """``p`` candidates by greedy adding then vertex exchange (a starting incumbent).

    Rows that must be served get a large finite penalty so that the heuristic prefers
    serving them.
    """
    t0 = time.perf_counter()
    is_open = np.zeros(sub.mc, dtype=bool)
    if p == 0:
        return is_open
    cur = _penalised_cap(sub)
    wr = sub.w[sub.row]
    by_col = np.argsort(sub.col, kind="stable")
    col_ptr = _row_ptr(sub.col, sub.mc)
    for _ in range(p):
        gain = _wsum(sub.col, weights=wr * np.maximum(cur[sub.row] - sub.t, 0.0),
                           minlength=sub.mc)
        gain[is_open] = -1.0
        j = int(np.argmax(gain))
        is_open[j] = True
        e = by_col[col_ptr[j]:col_ptr[j + 1]]
        cur[sub.row[e]] = np.minimum(cur[sub.row[e]], sub.t[e])
    return _swaps(sub, is_open, max_s - (time.perf_counter() - t0))


def _swaps(sub: _Sub, is_open: NDArray[np.bool_], max_s: float) -> NDArray[np.bool_]:
    """Best-improvement vertex exchange from ``is_open`` until no swap improves.

    With ``c1``/``c2`` the nearest/second-nearest open time and ``a1`` the nearest open
    candidate of each row, swapping ``j`` in and ``r`` out changes the cost by
    ``G_j + L_r + M[j, r]``: ``G_j = sum_i w_i min(t_ij - c1_i, 0)`` (opening j),
    ``L_r = sum_{a1_i = r} w_i (c2_i - c1_i)`` (closing r) and the correction
    ``M[j, r] = sum_{a1_i = r, t_ij < c2_i} w_i ((t_ij - c2_i) - min(t_ij - c1_i, 0))``,
    all accumulated over the stored pairs with ``bincount``.
    """
    t0 = time.perf_counter()
    cap = _penalised_cap(sub)
    is_open = is_open.copy()
    p = int(is_open.sum())
    if p in (0, sub.mc):
        return is_open
    wr = sub.w[sub.row]
    for _ in range(20 * p + 100):
        if time.perf_counter() - t0 > max_s:
            break
        c1, a1, c2 = _first_second(sub, is_open, cap)
        obj = float(sub.w @ c1)
        g = _wsum(sub.col, weights=wr * np.minimum(sub.t - c1[sub.row], 0.0),
                        minlength=sub.mc)
        olist = np.flatnonzero(is_open)
        pos = np.full(sub.mc, -1, dtype=np.int64)
        pos[olist] = np.arange(olist.size)
        has = a1 >= 0
        loss = _wsum(a1[has], weights=sub.w[has] * (c2[has] - c1[has]),
                           minlength=sub.mc)
        ar = a1[sub.row]
        e = np.flatnonzero((ar >= 0) & (sub.t < c2[sub.row]) & ~is_open[sub.col])
        re = sub.row[e]
        te = sub.t[e]
        val = sub.w[re] * ((te - c2[re]) - np.minimum(te - c1[re], 0.0))
        mat = _wsum(sub.col[e] * olist.size + pos[ar[e]], weights=val,
                          minlength=sub.mc * olist.size)
        delta = mat.reshape(sub.mc, olist.size) + g[:, None] + loss[olist][None, :]
        delta[is_open, :] = np.inf
        k = int(np.argmin(delta))
        jin, rpos = divmod(k, olist.size)
        if not delta[jin, rpos] < -1e-9 * max(abs(obj), 1.0):
            break
        is_open[jin] = True
        is_open[olist[rpos]] = False
    return is_open


# --------------------------------------------------------------------------------------
# Benders decomposition of the radius formulation


@dataclass
class _Levels:
    """Distinct times ("levels") of every row, in row order (private)."""

    row: NDArray[np.int64]       # row of each level
    d: NDArray[np.float64]       # its time D_i^k
    start: NDArray[np.int64]     # first entry of the level's shell
    end: NDArray[np.int64]       # one past its last entry


def _levels(sub: _Sub) -> _Levels:
    new = np.ones(sub.t.size, dtype=bool)
    new[1:] = (sub.row[1:] != sub.row[:-1]) | (sub.t[1:] != sub.t[:-1])
    start = np.flatnonzero(new)
    end = np.append(start[1:], sub.t.size).astype(np.int64)
    return _Levels(row=sub.row[start], d=sub.t[start], start=start, end=end)


def _deepest_cut(sub: _Sub, lev: _Levels, yv: NDArray[np.float64]):
    r"""Find the deepest Benders cut of every row at a (fractional) ``yv``.

    The cut of row :math:`i` at level :math:`s` is
    :math:`\theta_i \ge D_i^s - \sum_{j: t_{ij} < D_i^s} (D_i^s - t_{ij})\, y_j`
    (valid for every :math:`s`, with :math:`D_i^{K_i+1} = c_i` when the cap is
    finite). Its right-hand side at ``yv`` grows with :math:`s` while the open fraction
    nearer than :math:`D_i^s` is below one, so the deepest cut is at the first level
    where that fraction reaches one - the cap if it never does, or the last level for a
    row that must be served. Returns ``(dist, end)``: the cut's level time and one past
    its last entry (entries ``ptr[i]:end[i]``).
    """
    cs = np.cumsum(yv[sub.col])
    before = np.where(sub.ptr[:-1] > 0, cs[np.maximum(sub.ptr[:-1] - 1, 0)], 0.0)
    ylev = cs[lev.end - 1] - before[lev.row]          # open fraction up to each level
    g = np.flatnonzero(ylev >= 1 - 1e-7)              # sorted, so by row then level
    rg = lev.row[g]
    lead = np.ones(g.size, dtype=bool)
    lead[1:] = rg[1:] != rg[:-1]
    has = np.zeros(sub.n, dtype=bool)
    has[rg[lead]] = True
    gi = np.append(np.flatnonzero(lev.row[1:] != lev.row[:-1]), lev.row.size - 1)
    gi[rg[lead]] = g[lead]                            # else the row's last level
    capped = ~has & np.isfinite(sub.cap)
    dist = np.where(capped, sub.cap, lev.d[gi])
    end = np.where(capped, sub.ptr[1:], lev.start[gi])
    return dist, end


def _cut_value(sub: _Sub, dist: NDArray[np.float64], end: NDArray[np.int64],
               yv: NDArray[np.float64]) -> NDArray[np.float64]:
    """Right-hand side of each row's cut ``(dist, end)`` at ``yv`` (unweighted)."""
    inside = np.arange(sub.t.size) < end[sub.row]
    gain = np.where(inside, (dist[sub.row] - sub.t) * yv[sub.col], 0.0)
    return dist - _wsum(sub.row, weights=gain, minlength=sub.n)


@dataclass
class _Groups:
    """Rows sharing one master variable ``theta_g`` (their summed weighted time)."""

    of: NDArray[np.int64]         # group of each row
    n: int
    floor: NDArray[np.float64]    # sum of w_i D_i^1 over the group: theta_g's lower bound


def _groups(sub: _Sub, lev: _Levels) -> _Groups:
    """Group rows by their nearest candidate when rows outnumber candidates.

    Any grouping is exact: ``theta_g`` is bounded below by sums of its rows' cuts, which
    at an integer ``y`` equal the group's true time, and at convergence the LP bound is
    the same. Fewer master variables make each master far cheaper to solve, at the
    price of more cut rounds; rows with the same nearest candidate respond alike to
    opening sites, and grouping by it was measured 3-10x faster than one variable per
    row on 2,000 x 200 instances (and what makes 200,000-cell instances tractable).
    """
    d1 = lev.d[np.searchsorted(lev.row, np.arange(sub.n))]
    if sub.n <= sub.mc or not _GROUP_ROWS:
        of = np.arange(sub.n)
    else:
        _, of = np.unique(sub.col[sub.ptr[:-1]], return_inverse=True)
        of = of.ravel()
    n = int(of.max()) + 1
    return _Groups(of=of.astype(np.int64), n=n, floor=_wsum(of, sub.w * d1, n))


#: Group rows in the Benders master (see :func:`_groups`); tests switch it off.
_GROUP_ROWS = True


@dataclass
class _Cuts:
    """A batch of cuts ``theta_g + sum_j coef[k, j] y_j >= rhs[k]``, ``g = group[k]``."""

    group: NDArray[np.int64]
    coef: sp.csr_matrix
    rhs: NDArray[np.float64]


def _group_values(sub: _Sub, grp: _Groups, dist, end, yv) -> NDArray[np.float64]:
    """Right-hand side of every group's aggregated cut at ``yv``."""
    return _wsum(grp.of, sub.w * _cut_value(sub, dist, end, yv), grp.n)


def _cuts(sub: _Sub, grp: _Groups, groups: NDArray[np.int64], dist, end) -> _Cuts:
    """Build the cuts of ``groups``: the weighted sums of their rows' cuts."""
    loc = np.full(grp.n, -1, dtype=np.int64)
    loc[groups] = np.arange(groups.size)
    rl = loc[grp.of]
    e = np.flatnonzero((rl[sub.row] >= 0) & (np.arange(sub.t.size) < end[sub.row]))
    re = sub.row[e]
    coef = sp.csr_matrix((sub.w[re] * (dist[re] - sub.t[e]), (rl[re], sub.col[e])),
                         shape=(groups.size, sub.mc))
    coef.sum_duplicates()
    inrow = rl >= 0
    rhs = _wsum(rl[inrow], sub.w[inrow] * dist[inrow], groups.size)
    return _Cuts(group=groups, coef=coef, rhs=rhs)


def _cut_rows(cuts: _Cuts, mc: int) -> sp.csr_matrix:
    """Write the cuts as rows over the master's columns: ``y`` then ``theta``."""
    k = cuts.group.size
    theta = sp.csr_matrix((np.ones(k), (np.arange(k), mc + cuts.group)),
                          shape=(k, mc + int(cuts.group.max(initial=0)) + 1))
    a = cuts.coef.tocsr()
    a = sp.csr_matrix((a.data, a.indices, a.indptr), shape=(k, theta.shape[1]))
    out = (a + theta).tocsr()
    out.sort_indices()
    return out


def _must_serve(sub: _Sub) -> list[NDArray[np.int64]]:
    """Candidate sets of the rows that must be served (cap = inf), one per distinct set.

    Every such row needs an open candidate within the matrix: ``sum_{j in R_i} y_j >= 1``
    (rows that every candidate reaches are left out: ``sum_j y_j = p >= 1`` covers them).
    """
    ptr = sub.ptr
    must = np.flatnonzero(np.isinf(sub.cap) & (np.diff(ptr) < sub.mc))
    if not must.size:
        return []
    # a 64-bit hash of each row's candidate set (every row of the sub-problem has
    # entries, so the row starts are increasing)
    h = np.add.reduceat(_mix(sub.col.astype(np.uint64)), ptr[:-1])[must]
    _, keep = np.unique(np.stack([h, np.diff(ptr)[must].astype(np.uint64)], 1), axis=0,
                        return_index=True)
    return [sub.col[ptr[i]:ptr[i + 1]] for i in must[np.sort(keep)].tolist()]


class _LPMaster:
    r"""The LP relaxation of the Benders master, kept alive in HiGHS (private).

    Columns ``y_j`` in [0, 1] (candidates) then ``theta_g >= floor_g`` (row groups),
    objective ``sum_g theta_g``; rows ``sum_j y_j = p``, the must-serve rows, then the
    cuts ``theta_g + sum_j coef_j y_j >= rhs``. Cuts are appended with ``addRows`` and
    each re-solve starts from the previous basis (dual simplex). Cuts that are not
    binding are purged when they outnumber the columns twice over; the master stays a
    relaxation of the radius LP, so its optimum is a lower bound after every solve. Every
    cut ever added stays in :attr:`pool` (for the MILP master).
    """

    def __init__(self, sub: _Sub, grp: _Groups, p: int) -> None:
        import highspy  # noqa: PLC0415 - only the p-median's LP phase needs it

        h = new_highs(threads=1)                    # output off, banner to the logger
        self.h = h
        self.hs = highspy
        self.mc, self.G = sub.mc, grp.n
        inf = highspy.kHighsInf
        mc, G = self.mc, self.G
        h.addVars(mc, np.zeros(mc), np.ones(mc))
        h.addVars(G, grp.floor.astype(np.float64), np.full(G, inf))
        h.changeColsCost(G, np.arange(mc, mc + G, dtype=np.int32), np.ones(G))
        h.addRow(float(p), float(p), mc, np.arange(mc, dtype=np.int32), np.ones(mc))
        sets = _must_serve(sub)
        if sets:
            idx = np.concatenate(sets).astype(np.int32)
            starts = np.cumsum([0] + [s.size for s in sets[:-1]]).astype(np.int32)
            h.addRows(len(sets), np.ones(len(sets)), np.full(len(sets), inf), idx.size,
                      starts, idx, np.ones(idx.size))
        self.n_fixed = h.getNumRow()
        self.pool: list[_Cuts] = []
        self.n_cuts = 0                     # cut rows in HiGHS now

    def add(self, cuts: _Cuts) -> None:
        """Append a batch of cuts (and keep it in the pool)."""
        k = cuts.group.size
        if k == 0:
            return
        a = _cut_rows(cuts, self.mc)
        self.h.addRows(k, cuts.rhs.astype(np.float64), np.full(k, self.hs.kHighsInf),
                       a.nnz, a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32),
                       a.data.astype(np.float64))
        self.pool.append(cuts)
        self.n_cuts += k

    def solve(self, seconds: float | None) -> tuple[str, Any]:
        """Re-solve; ``("optimal", solution)``, ``("infeasible", None)``, or another state."""
        h, hs = self.h, self.hs
        h.setOptionValue("time_limit", math.inf if seconds is None else max(seconds, 1e-3))
        run_highs(h)          # on the thread scheduler there is (see solver.run_highs)
        ms = h.getModelStatus()
        if ms == hs.HighsModelStatus.kOptimal:
            return "optimal", h.getSolution()
        if ms == hs.HighsModelStatus.kInfeasible:
            return "infeasible", None
        if ms == hs.HighsModelStatus.kTimeLimit:
            return "time_limit", None
        return "failed", None

    def purge(self, sol: Any) -> None:
        """Drop the cuts with a zero dual when cuts outnumber the columns twice over.

        The current point stays optimal (its duals stay feasible), so the bound does not
        fall; a dropped cut comes back when it is violated again.
        """
        if self.n_cuts < 2 * (self.mc + self.G):
            return
        dual = np.asarray(sol.row_dual, dtype=np.float64)[self.n_fixed:]
        drop = np.flatnonzero(np.abs(dual) <= 1e-12) + self.n_fixed
        if drop.size:
            self.h.deleteRows(int(drop.size), drop.astype(np.int32))
            self.n_cuts -= int(drop.size)


#: The LP phase stops as "stalled" when its bound gained less than this (relative) ...
_STALL_REL = 1e-6
#: ... over this many rounds.
_STALL_ROUNDS = 10
#: Share of the time left that the LP phase may use when there is a time limit.
_LP_SHARE = 0.5
#: Least time left (s) worth starting a master MILP with; the last one gets the rest.
_MIN_MILP_S = 0.25


@dataclass
class _LPResult:
    """Outcome of the LP phase (private).

    ``bound`` is the largest master value at a solve HiGHS reported optimal (a valid
    lower bound; -inf when there was none); ``y`` and ``dj`` (reduced costs of ``y``)
    are from that solve. ``stop`` says why the loop ended.
    """

    stop: str
    bound: float
    y: NDArray[np.float64] | None
    dj: NDArray[np.float64] | None
    pool: list[_Cuts]


def _separate(sub: _Sub, lev: _Levels, grp: _Groups, yv: NDArray[np.float64],
              tv: NDArray[np.float64], core: NDArray[np.float64],
              lam: float) -> tuple[float, list[_Cuts]]:
    r"""Radius-LP value at an LP point and the cuts that cut it off (in-out stabilised).

    Returns :math:`F(\bar y) = \sum_g` (group ``g``'s deepest cut at :math:`\bar y`), an
    upper bound on the LP optimum at a feasible master point, and the cuts to add: for
    every group whose deepest cut at :math:`\bar y` exceeds :math:`\bar\theta_g` (by
    1e-7 relative), the deepest cut at the separation point
    ``lam * y + (1 - lam) * core`` if that one also cuts off :math:`(\bar y, \bar\theta)`,
    else the deepest cut at :math:`\bar y`. No cuts: :math:`\bar y` is LP-optimal.
    """
    dist, end = _deepest_cut(sub, lev, yv)
    val = _group_values(sub, grp, dist, end, yv)
    tol = 1e-7 * np.maximum(1.0, np.abs(tv))
    bad = np.flatnonzero(val > tv + tol)
    out: list[_Cuts] = []
    if bad.size:
        d2, e2 = _deepest_cut(sub, lev, lam * yv + (1 - lam) * core)
        ok = _group_values(sub, grp, d2, e2, yv)[bad] > tv[bad] + tol[bad]
        if ok.any():
            out.append(_cuts(sub, grp, bad[ok], d2, e2))
        if not ok.all():
            out.append(_cuts(sub, grp, bad[~ok], dist, end))
    return float(val.sum()), out


def _lp_stop(history: list[float], ub: float, upper: float, no_cuts: bool) -> str | None:
    """Why the LP loop stops after a round (None: go on); ``history`` holds the bounds."""
    bound = history[-1]
    if bound >= ub - 1e-9 * max(abs(ub), 1.0):
        return "incumbent_proven"
    if no_cuts or upper - bound <= 1e-9 * max(abs(upper), 1.0):
        return "converged"
    k = _STALL_ROUNDS
    if len(history) > k and bound - history[-1 - k] <= _STALL_REL * max(abs(bound), 1.0):
        return "stalled"
    return None


def _benders_lp(sub: _Sub, lev: _Levels, grp: _Groups, p: int, start: NDArray[np.bool_],
                ub: float, run: _Run) -> _LPResult:
    r"""LP relaxation of the master by cutting planes with in-out stabilisation (HiGHS).

    Each round re-solves the persistent HiGHS master (:class:`_LPMaster`, whatever the
    ``solver`` option), whose value :math:`\underline z` is a lower bound whenever
    HiGHS reports it optimal, and separates cuts at its point (:func:`_separate`,
    Ben-Ameur & Neto 2007); the core point moves half-way to each LP point. The loop
    stops (``details["lp_stop"]``) with

    * ``"incumbent_proven"``: :math:`\underline z \ge` the incumbent (1e-9 relative);
    * ``"converged"``: no cut violated, or :math:`\min F(\bar y) - \underline z` within
      1e-9 relative: the LP optimum;
    * ``"stalled"``: the bound gained less than ``_STALL_REL`` (relative) over the last
      ``_STALL_ROUNDS`` rounds (degenerate rounds, tolerances) - the MILP phase is exact
      without the LP optimum;
    * ``"time_limit"`` (its share ``_LP_SHARE`` of the time left), ``"failed"`` (HiGHS
      reported neither optimal nor infeasible) or ``"infeasible"`` (the LP, hence the
      problem, has no solution: the must-serve rows cannot all be reached).
    """
    details = run.details
    tb = time.perf_counter()
    master = _LPMaster(sub, grp, p)
    master.add(_all_cuts(sub, lev, grp, start.astype(np.float64)))
    details["_build_s"] += time.perf_counter() - tb
    left = run.clock.left()
    deadline = None if left is None else time.perf_counter() + _LP_SHARE * left
    core = np.full(sub.mc, p / sub.mc)
    res = _LPResult(stop="failed", bound=-math.inf, y=None, dj=None, pool=master.pool)
    upper = math.inf
    history: list[float] = []
    while True:
        rem = None if deadline is None else deadline - time.perf_counter()
        if rem is not None and rem <= 0.01:
            res.stop = "time_limit"
            break
        ts = time.perf_counter()
        state, sol = master.solve(rem)
        details["solve_s"] += time.perf_counter() - ts
        details["lp_rounds"] += 1
        if state != "optimal":
            res.stop = state
            break
        tb = time.perf_counter()
        col = np.asarray(sol.col_value, dtype=np.float64)
        yv, tv = np.clip(col[:sub.mc], 0.0, 1.0), col[sub.mc:]
        if float(tv.sum()) >= res.bound:
            res.bound, res.y = float(tv.sum()), yv
            res.dj = np.asarray(sol.col_dual, dtype=np.float64)[:sub.mc]
        history.append(res.bound)
        value, cuts = _separate(sub, lev, grp, yv, tv, core, 0.5)
        upper = min(upper, value)
        stop = _lp_stop(history, ub, upper, not cuts)
        if stop is not None:
            res.stop = stop
            details["_build_s"] += time.perf_counter() - tb
            break
        for c in cuts:
            master.add(c)
        core = 0.5 * (core + yv)
        if details["lp_rounds"] % 10 == 0 and details["lp_rounds"] <= 1000:
            master.purge(sol)
        details["_build_s"] += time.perf_counter() - tb
    details["lp_stop"] = res.stop
    details["pool_cuts"] = sum(c.group.size for c in res.pool)
    return res


class _MILPMaster:
    """The Benders master MILP in PuLP, built once and extended by cuts (private).

    ``min sum_g theta_g`` s.t. ``sum_j y_j = p``, ``theta_g >= sum_{i in g} w_i D_i^1``,
    the cuts, ``sum_{j in R_i} y_j >= 1`` for each distinct candidate set of the rows
    that must be served, ``y`` binary with the fixings as bounds.
    """

    def __init__(self, sub: _Sub, grp: _Groups, p: int,
                 fixed: tuple[NDArray[np.bool_], NDArray[np.bool_]]) -> None:
        self.p = p
        self.seen: set[bytes] = set()        # solutions whose cuts were added
        self.nnz = 0                         # nonzeros of the cuts
        self.prob = pulp.LpProblem("p_median", pulp.LpMinimize)
        lo = fixed[1].astype(float).tolist()
        hi = (1.0 - fixed[0]).astype(float).tolist()
        self.y = [pulp.LpVariable(f"y{j}", lowBound=a, upBound=b, cat=pulp.LpBinary)
                  for j, (a, b) in enumerate(zip(lo, hi, strict=True))]
        self.th = [pulp.LpVariable(f"t{g}", lowBound=b) for g, b in enumerate(grp.floor.tolist())]
        self.prob += pulp.LpAffineExpression([(v, 1.0) for v in self.th])
        self.prob.addConstraint(pulp.LpConstraint(
            pulp.LpAffineExpression([(v, 1.0) for v in self.y]), pulp.LpConstraintEQ,
            rhs=float(p)))
        for cols in _must_serve(sub):
            self.prob.addConstraint(pulp.LpConstraint(
                pulp.LpAffineExpression([(self.y[c], 1.0) for c in cols.tolist()]),
                pulp.LpConstraintGE, rhs=1.0))

    def add(self, cuts: _Cuts) -> None:
        """Add a batch of cuts."""
        ge = pulp.LpConstraintGE
        ip, ix, dv = cuts.coef.indptr, cuts.coef.indices.tolist(), cuts.coef.data.tolist()
        for k, (g, r) in enumerate(zip(cuts.group.tolist(), cuts.rhs.tolist(), strict=True)):
            a, b = ip[k], ip[k + 1]
            terms = [(self.y[j], v) for j, v in zip(ix[a:b], dv[a:b], strict=True)]
            terms.append((self.th[g], 1.0))
            self.prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms), ge,
                                                      rhs=r))
        self.nnz += int(cuts.coef.nnz) + cuts.group.size

    def start(self, sub: _Sub, grp: _Groups, is_open: NDArray[np.bool_]) -> None:
        """Set a solution as the MIP start: ``y`` and each group's true time."""
        c1, _, _ = _first_second(sub, is_open, sub.cap)
        for v, s in zip(self.y, is_open.tolist(), strict=True):
            v.setInitialValue(1 if s else 0)
        for v, c in zip(self.th, _wsum(grp.of, sub.w * c1, grp.n).tolist(), strict=True):
            v.setInitialValue(c)

    def values(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return (np.array([v.varValue or 0.0 for v in self.y]),
                np.array([v.varValue or 0.0 for v in self.th]))


@dataclass
class _Run:
    """Solver settings and bookkeeping of one p-median solve (private).

    ``solver`` is what the master MILP runs on (a name or a PuLP solver object).
    """

    solver: Any
    clock: Deadline
    gap: float | None
    details: dict[str, Any]
    verbose: bool = False


def _violated(sub: _Sub, lev: _Levels, grp: _Groups, yv: NDArray[np.float64],
              tv: NDArray[np.float64], rel: float = 1e-7) -> _Cuts | None:
    """Find the groups whose deepest cut at ``yv`` cuts off ``theta = tv`` (by > ``rel``)."""
    dist, end = _deepest_cut(sub, lev, yv)
    val = _group_values(sub, grp, dist, end, yv)
    bad = np.flatnonzero(val > tv + rel * np.maximum(1.0, np.abs(tv)))
    return _cuts(sub, grp, bad, dist, end) if bad.size else None


def _all_cuts(sub: _Sub, lev: _Levels, grp: _Groups, yv) -> _Cuts:
    """Every group's deepest cut at ``yv`` (exact at an integer ``yv``)."""
    dist, end = _deepest_cut(sub, lev, yv)
    return _cuts(sub, grp, np.arange(grp.n), dist, end)


def _proven(obj: float, bound: float) -> bool:
    """Whether ``bound`` proves ``obj`` optimal: within 1e-7 relative or 1e-6 absolute.

    The tolerances of :mod:`geoplan.optimize.solver` (``OPTIMAL_GAP``): floating-point
    slack of the LP and MILP solvers, far below any meaningful difference of plans.
    """
    if not (math.isfinite(obj) and math.isfinite(bound)):
        return False
    return obj - bound <= max(1e-7 * abs(obj), 1e-6)


@dataclass
class _Best:
    """The best true solution found so far (private)."""

    open: NDArray[np.bool_] | None
    cost: float

    def offer(self, sub: _Sub, is_open: NDArray[np.bool_]) -> None:
        """Keep ``is_open`` if it is cheaper."""
        c = _cost(sub, is_open)
        if c < self.cost:
            self.open, self.cost = is_open.copy(), c


def _milp_bound(info: SolveInfo) -> float:
    """Return the lower bound a master MILP solve proved (-inf if none)."""
    if math.isfinite(info.bound):
        return float(info.bound)
    if info.status == OPTIMAL and math.isfinite(info.objective):
        return float(info.objective)
    return -math.inf


def _milp_round(sub: _Sub, lev: _Levels, grp: _Groups, master: _MILPMaster,
                proven: bool, bound: float, best: _Best, gap: float | None) -> str | None:
    """Check a master MILP solution; add its cuts. Returns a final state or None (go on).

    ``"exact"``: the solve was proven optimal and either the best solution costs at
    most its bound or its own solution violates no cut (1e-9 relative) - or violates
    only cuts added before (solver tolerances); ``"gap"``: within the ``gap`` option;
    ``"limit"``: an unproven solve whose solution meets its cuts (no progress left);
    ``"not_a_solution"``: the values do not open ``p`` candidates.
    """
    yv, tv = master.values()
    is_open = yv > 0.5
    if int(is_open.sum()) != master.p:
        return "not_a_solution"
    best.offer(sub, is_open)
    if proven and _proven(best.cost, bound):
        return "exact"
    key = is_open.tobytes()
    out = _violated(sub, lev, grp, is_open.astype(np.float64), tv, rel=1e-9)
    if out is None or key in master.seen:
        # theta meets the exact cuts of its own solution (up to the solver's feasibility
        # tolerance), so the master's optimum is that solution's cost
        return "exact" if proven else "limit"
    if gap is not None and _rel_gap(best.cost, bound) <= gap:
        return "gap"
    master.seen.add(key)
    master.add(out)
    # the exact cuts of a locally improved solution keep the next master from proposing
    # its neighbourhood again
    better = _swaps(sub, is_open, 1.0)
    best.offer(sub, better)
    master.add(_all_cuts(sub, lev, grp, better.astype(np.float64)))
    return None


def _solver_seconds(run: _Run, master: _MILPMaster) -> float | None:
    """Give a master MILP solve what is left, less the solve's overhead.

    A solve also writes the model (CBC: an MPS file) and may run up to the solver
    layer's grace past its limit; measured about 0.3 s plus 2 microseconds per nonzero.
    """
    left = run.clock.left()
    if left is None:
        return None
    return max(left - (0.3 + 2e-6 * master.nnz), 0.5 * left)


def _benders_milp(sub: _Sub, lev: _Levels, grp: _Groups, p: int, pool: list[_Cuts],
                  fixed: tuple[NDArray[np.bool_], NDArray[np.bool_]],
                  start: NDArray[np.bool_] | None, run: _Run) -> tuple[str, _Best, float]:
    r"""Master MILP with the cut pool; add the cuts its solutions violate, re-solve.

    The master (with the fixings as bounds) is a relaxation of the p-median restricted
    to the solutions the fixings keep. A round whose solve the MILP solver reports
    ``"optimal"`` has a proven master optimum :math:`L`, a lower bound of the restricted
    problem; when the master's solution violates no cut, its ``theta`` are at least
    each group's true time, so its true cost is at most :math:`L`: it is optimal.
    Any other status is unproven and only a finite ``bound`` from it is used. Every
    later round starts from the best solution (a MIP start). Returns ``(state, best,
    bound)``: ``state`` from :func:`_milp_round`, ``"infeasible"`` (a proven-infeasible
    master: no solution respects the fixings) or ``"limit"`` (time, or a solve without
    a solution); ``bound`` is the best proven lower bound of the restricted problem.
    """
    details = run.details
    best = _Best(start, _cost(sub, start) if start is not None else math.inf)
    bound = -math.inf
    tb = time.perf_counter()
    master = _MILPMaster(sub, grp, p, fixed)
    for cuts in pool:
        master.add(cuts)
    details["_build_s"] += time.perf_counter() - tb
    state = "limit"
    while not run.clock.expired(_MIN_MILP_S):
        warm = best.open is not None and not (
            (best.open & fixed[0]).any() or (fixed[1] & ~best.open).any())
        if warm:
            master.start(sub, grp, best.open)
        info = solve(master.prob, run.solver, time_limit=_solver_seconds(run, master),
                     gap=run.gap, warm_start=warm, msg=run.verbose)
        details["solve_s"] += info.solve_s
        details["rounds"] += 1
        details["solver"] = info.solver
        if info.status == INFEASIBLE:
            return "infeasible", best, math.inf
        bound = max(bound, _milp_bound(info))
        if not info.has_solution:
            break
        tb = time.perf_counter()
        verdict = _milp_round(sub, lev, grp, master, info.status == OPTIMAL, bound, best,
                              run.gap)
        details["_build_s"] += time.perf_counter() - tb
        if verdict is not None:
            state = "limit" if verdict == "not_a_solution" else verdict
            break
    return state, best, bound


def _fix_by_reduced_cost(lb: float, yv: NDArray[np.float64], dj: NDArray[np.float64],
                         ub: float) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    r"""Candidates closed (``fix0``) / open (``fix1``) in every solution costing <= ``ub``.

    ``lb``, ``yv``, ``dj``: value, point and reduced costs of ``y`` of an LP master that
    HiGHS solved to optimality (a relaxation of the problem), ``ub`` the cost of a true
    solution. LP duality: a solution with :math:`y_j = 1` for a candidate at 0 costs at
    least :math:`lb + d_j`; one with :math:`y_j = 0` for a candidate at 1 at least
    :math:`lb - d_j`. Fixing only where that exceeds ``ub`` (by a margin of 1e-6
    relative, for the LP's tolerances) keeps every solution at least as good as ``ub``.
    """
    margin = 1e-6 * max(abs(ub), 1.0)
    fix0 = (yv < 1e-6) & (lb + dj > ub + margin)
    fix1 = (yv > 1 - 1e-6) & (lb - dj > ub + margin)
    return fix0, fix1


def _round_lp(sub: _Sub, p: int, y: NDArray[np.float64], best: _Best, run: _Run) -> None:
    """Offer the LP point's ``p`` largest, improved by vertex exchange, as a solution."""
    cand = np.zeros(sub.mc, dtype=bool)
    cand[np.argsort(-y, kind="stable")[:p]] = True
    left = run.clock.left()
    best.offer(sub, _swaps(sub, cand, 10.0 if left is None else 0.1 * left))


def _milp_verdict(state: str, best: _Best, lb: float, mbound: float, fixings: bool,
                  details: dict[str, Any]) -> tuple[str, float]:
    """Status and bound after the MILP phase (the best solution is a true one)."""
    if state == "infeasible":
        if not fixings:          # a true solution exists: the solver's answer is wrong
            return FEASIBLE, lb
        # nothing respects the fixings: none beats the incumbent (fixings need one)
        details["proof"] = "fixing"
        return OPTIMAL, best.cost
    # the fixings keep every solution costing <= ub: min(ub, mbound) bounds the optimum
    bound = max(lb, min(best.cost, mbound))
    if state == "exact" and _proven(best.cost, bound):
        details["proof"] = "milp"
        return OPTIMAL, bound
    return FEASIBLE, bound


def _solve_exact(sub: _Sub, p: int, h_open: NDArray[np.bool_], run: _Run):
    """Exact p-median of the sub-problem: LP phase, fixing, Benders master MILP.

    Returns ``(status, open set or None, objective, bound)`` for the sub-problem;
    ``details["proof"]`` names the step that proved the status (``"lp"``,
    ``"fixing"``, ``"milp"``; None: unproven) and ``details["solver"]`` what ran.
    """
    details = run.details
    details.update(lp_rounds=0, rounds=0, solve_s=0.0, _build_s=0.0, solver="none",
                   proof=None, lp_stop="not_run")
    lev = _levels(sub)
    grp = _groups(sub, lev)
    details["master_rows"] = grp.n
    c0 = _cost(sub, h_open)
    best = _Best(h_open if math.isfinite(c0) else None, c0)
    t_lp = time.perf_counter()
    lp = _benders_lp(sub, lev, grp, p, h_open, best.cost, run)
    details["lp_s"] = time.perf_counter() - t_lp
    lp_name = _highs_version() + " (Benders LP)"
    details["solver"] = lp_name
    if lp.stop == "infeasible":
        details["proof"] = "lp"
        return INFEASIBLE, None, math.nan, math.nan
    lb = lp.bound
    fix0 = fix1 = np.zeros(sub.mc, dtype=bool)
    if lp.y is not None and lp.dj is not None:
        details["lp_bound"] = lb
        _round_lp(sub, p, lp.y, best, run)
        if best.open is not None:
            fix0, fix1 = _fix_by_reduced_cost(lb, lp.y, lp.dj, best.cost)
    details["fixed_closed"] = int(fix0.sum())
    details["fixed_open"] = int(fix1.sum())
    early = None
    if best.open is not None and _proven(best.cost, lb):
        early = OPTIMAL, "lp", " + local search", lb
    elif best.open is not None and run.gap is not None and _rel_gap(best.cost, lb) <= run.gap:
        early = FEASIBLE, None, " + local search", lb
    elif best.open is not None and (int((~fix0).sum()) < p or int(fix1.sum()) > p):
        # every p-subset breaks a fixing: no solution beats the incumbent
        early = OPTIMAL, "fixing", " + reduced-cost fixing", best.cost
    if early is not None:
        details["proof"] = early[1]
        details["solver"] = lp_name + early[2]
        return early[0], best.open, best.cost, early[3]
    t_milp = time.perf_counter()
    state, mbest, mbound = _benders_milp(sub, lev, grp, p, lp.pool, (fix0, fix1), best.open,
                                         run)
    details["milp_s"] = time.perf_counter() - t_milp
    if details["rounds"]:
        details["solver"] = f"{details['solver']} + {lp_name}"
    if mbest.open is not None:
        best.offer(sub, mbest.open)
    if best.open is None:
        if state == "infeasible":          # no fixing without an incumbent: a proof
            details["proof"] = "milp"
        return (INFEASIBLE if state == "infeasible" else FEASIBLE), None, math.nan, math.nan
    status, bound = _milp_verdict(state, best, lb, mbound, bool(fix0.any() or fix1.any()),
                                  details)
    return status, best.open, best.cost, bound


# --------------------------------------------------------------------------------------
# front doors


@dataclass
class _Prep:
    """A validated p-median instance (private)."""

    rows: _Rows
    w: NDArray[np.float64]
    ex: NDArray[np.intp]
    is_ex: NDArray[np.bool_]
    cand: NDArray[np.intp]
    p: int
    u: float                          # unassigned_time (inf: rows must be served)
    t_ex: NDArray[np.float64]         # time to the nearest existing site per row
    sub: _Sub


def _prepare(times: Any, weights: Any, p: Any, existing: Any,
             unassigned_time: Any) -> _Prep:
    """Validate the inputs and build the decision sub-problem."""
    rows = _sorted_rows(times)
    w = _check_weights(weights, rows.n)
    ex = _check_existing(existing, rows.m)
    is_ex = np.zeros(rows.m, dtype=bool)
    is_ex[ex] = True
    cand = np.flatnonzero(~is_ex)
    p = _check_p(p, int(cand.size), int(ex.size))
    u = _check_unassigned(unassigned_time, rows)
    if unassigned_time is None:
        lonely = (w > 0) & (np.diff(rows.indptr) == 0)
        if lonely.any():
            raise _unreachable_error(int(lonely.sum()), rows.n, float(w[lonely].sum()),
                                     "reach no site at all within the matrix")
    t_ex, _ = _nearest_open(rows, is_ex)
    sub, _ = _sub_problem(rows, w, is_ex, np.minimum(t_ex, u))
    return _Prep(rows=rows, w=w, ex=ex, is_ex=is_ex, cand=cand, p=p, u=u, t_ex=t_ex,
                 sub=sub)


def _no_solution_plan(prep: _Prep, info: SolveInfo, build_s: float,
                      details: dict[str, Any]) -> Plan:
    """Plan of an infeasible instance (explained) or of a solve that found nothing."""
    total = float(prep.w.sum())
    if info.status != INFEASIBLE:
        return Plan.from_solve("p_median", replace(info, status=NOT_SOLVED), selected=[],
                               existing=prep.ex, build_s=build_s, total_demand=total,
                               details=details)
    must = np.isinf(prep.sub.cap)
    rows, weight = int(must.sum()), float(prep.sub.w[must].sum())
    msg = (f"with p = {prep.p} new sites, the demand rows (weight {weight:,.6g}) that no "
           "existing site reaches cannot all reach an open site within the matrix")
    return Plan.from_solve("p_median", info, selected=[], existing=prep.ex, build_s=build_s,
                           total_demand=total,
                           explanation={"message": msg, "rows": rows, "weight": weight,
                                        "hint": "increase p, add existing sites, or pass "
                                                "unassigned_time="})


def _median_plan(prep: _Prep, best: NDArray[np.bool_], h_open: NDArray[np.bool_],
                 info: SolveInfo, build_s: float, details: dict[str, Any]) -> Plan:
    """Build the plan of a solution: true objective, bound with constants, assignment."""
    w, pos, sub = prep.w, prep.w > 0, prep.sub
    is_open = prep.is_ex.copy()
    is_open[prep.cand[best]] = True
    tt, jj = _nearest_open(prep.rows, is_open)
    cost = np.where(np.isfinite(tt), tt, prep.u)
    obj = float(w[pos] @ cost[pos])
    const = obj - _cost(sub, best)            # rows no decision affects, and row shifts
    bound = min(obj, info.bound + const) if math.isfinite(info.bound) else math.nan
    details["heuristic_objective"] = const + _cost(sub, h_open)
    if "lp_bound" in details:
        details["lp_bound"] += const
    unserved = pos & ~np.isfinite(tt)
    total = float(w.sum())
    details.update(mean_time=obj / total, max_time=float(cost[pos].max()),
                   unassigned_rows=int(unserved.sum()),
                   unassigned_weight=float(w[unserved].sum()))
    reduction = Reduction(
        demand_in=prep.rows.n, demand_out=sub.n, candidates_in=int(prep.cand.size),
        candidates_out=int(prep.cand.size) - int(details.get("fixed_closed", 0)),
        notes=["rows of weight 0 and rows whose nearest existing site beats every "
               "candidate are constants; rows equal up to a time shift were merged",
               "candidates dropped by reduced-cost fixing cannot be in a solution "
               "better than the incumbent"])
    info = replace(info, objective=obj, bound=bound, gap=_rel_gap(obj, bound))
    return Plan.from_solve("p_median", info, selected=prep.cand[best], existing=prep.ex,
                           build_s=build_s, total_demand=total,
                           covered_before=float(w[np.isfinite(prep.t_ex)].sum()),
                           covered_after=float(w[np.isfinite(tt)].sum()),
                           assignment=jj, reduction=reduction, details=details)


def p_median(
    times: ArrayLike | sp.spmatrix,
    weights: ArrayLike,
    p: int,
    *,
    existing: ArrayLike | None = None,
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
    r"""Open ``p`` new sites minimising the total population-weighted travel time.

    Every demand row is served by its nearest open site (existing or new); the model
    chooses which ``p`` candidate columns to open.

    **Model.** Demand rows :math:`i` with weights :math:`w_i \ge 0`; sites
    :math:`j \in E \cup C` (existing :math:`E`, always open, and candidates :math:`C`);
    travel times :math:`t_{ij}` on the stored (reachable) pairs :math:`R`. With
    :math:`y_j = 1` if candidate :math:`j` opens and :math:`x_{ij} = 1` if :math:`i` is
    served by :math:`j` (ReVelle & Swain 1970):

    .. math::

        \min \sum_{(i,j) \in R} w_i t_{ij} x_{ij} \quad\text{s.t.}\quad
        \sum_{j:(i,j) \in R} x_{ij} = 1,\;\; x_{ij} \le y_j,\;\;
        \sum_{j \in C} y_j = p,\;\; y_j = 1\ (j \in E),\;\; x, y \in \{0, 1\}.

    **Radius formulation.** For row :math:`i` let the *cap* :math:`c_i` be the time to
    its nearest existing site (or ``unassigned_time``; :math:`+\infty` if neither) and
    :math:`D_i^1 < \dots < D_i^{K_i}` the distinct times of its candidates nearer than
    :math:`c_i`, :math:`D_i^{K_i+1} := c_i`. With :math:`z_i^k = 1` when no open
    candidate lies within :math:`D_i^k` (Cornuejols, Nemhauser & Wolsey 1980; Elloumi
    2010) the cost of row :math:`i` is
    :math:`D_i^1 + \sum_k (D_i^{k+1} - D_i^k) z_i^k` subject to
    :math:`z_i^k + \sum_{j: t_{ij} \le D_i^k} y_j \ge 1` - one variable per *distinct*
    time instead of one per pair, with the same LP bound. Rows whose cap no candidate
    beats are constants; rows equal up to a constant time shift (e.g. cells snapped to
    the same road node) are merged with summed weights (exact).

    **Benders decomposition** (Duran-Mateluna, Ales & Elloumi 2023). For fixed
    :math:`y` the :math:`z` part of each row is solved in closed form, so the radius
    model is equivalent to the master

    .. math::

        \min \sum_i w_i \theta_i \quad\text{s.t.}\quad
        \theta_i \ge D_i^s - \sum_{j: t_{ij} < D_i^s} (D_i^s - t_{ij})\, y_j
        \;\; (\forall i, s),\qquad \sum_{j \in C} y_j = p,\;\; y \in \{0,1\}

    (plus :math:`\sum_{j:(i,j)\in R} y_j \ge 1` for rows with :math:`c_i = \infty`):
    at integer :math:`y` the deepest cut of row :math:`i` is at the level of its nearest
    open candidate and equals its true time. Rows are grouped by their nearest
    candidate, one :math:`\theta_g \ge \sum_{i \in g} w_i \theta_i` per group with
    the summed cuts (partial aggregation: still exact, far smaller masters). Only the
    cuts needed are generated, in closed form.

    **Steps, and what each proves.** ``details["proof"]`` names the step that proved
    the status (None: not proven); ``"optimal"`` is returned only with such a proof,
    for the problem as posed (within the solvers' tolerances: a bound within 1e-7
    relative or 1e-6 absolute of the objective).

    1. *Reduction* (exact): rows no candidate can improve are constants; rows equal up
       to a time shift are merged. If then nothing is left to choose (``p`` = 0, all
       candidates open, or no row depends on the choice): ``"no choice"``.
    2. *Enumeration*: with at most 5,000 ways to choose the ``p`` sites, all are
       evaluated - proves the optimum outright (``"enumeration"``).
    3. *Heuristic*: greedy adding and vertex exchange (Teitz & Bart 1968) - a true
       solution (the incumbent, an upper bound); proves nothing.
    4. *LP phase* (always **HiGHS**, through highspy, whatever ``solver`` says - like
       maximal covering's LP bound): the master's LP relaxation by cutting planes on a
       persistent HiGHS model (warm re-solves, non-binding cuts purged) with in-out
       stabilisation (Ben-Ameur & Neto 2007). Each master is a relaxation, so every
       value HiGHS reports optimal is a lower bound :math:`\underline z`. The loop stops
       (``details["lp_stop"]``) when the bound meets the incumbent
       (``"incumbent_proven"``), at the LP optimum (``"converged"``: no violated cut),
       when the bound gained less than 1e-6 (relative) over 10 rounds (``"stalled"``;
       the MILP phase does not need the LP optimum) or at its share of the time
       (``"time_limit"``). :math:`\underline z` meeting the incumbent - or the LP
       point's ``p`` largest after vertex exchange - proves it optimal (``"lp"``); an
       infeasible LP proves the problem infeasible.
    5. *Reduced-cost fixing*: with that proven :math:`\underline z`, its reduced costs
       :math:`d_j` and a true incumbent of cost :math:`\bar z`, a candidate at 0 with
       :math:`\underline z + d_j > \bar z` is closed (and one at 1 with
       :math:`\underline z - d_j > \bar z` opened) in every solution at least as good
       as the incumbent. If no ``p``-subset respects the fixings, the incumbent is
       optimal (``"fixing"``).
    6. *Master MILP* (``solver``; default
       :data:`~geoplan.optimize.solver.P_MEDIAN_SOLVER`) with every cut of the LP phase
       and the fixings, started from the incumbent, re-solved with the cuts its
       solution violates (and those of its vertex-exchange improvement). Optimal
       (``"milp"``) only when the MILP solver proves the master's optimum :math:`L`
       and the best true solution costs at most :math:`L` - which holds once the
       master's solution violates no cut, as its :math:`\theta` then is its true cost.
       A proven-infeasible master under fixings proves the incumbent (``"fixing"``).
       Any other solver status is unproven: only a finite bound it reports is used.

    A time or gap stop returns the best true solution with status ``"time_limit"`` and
    the bound :math:`\max(\underline z, \min(\bar z, L))` (:math:`L`: the best bound a
    master solve proved; the fixings only drop solutions worse than :math:`\bar z`).
    With ``gap``, the run stops once :math:`(\bar z - \text{bound}) / \bar z \le`
    ``gap`` - right after the LP phase if that already holds.

    Why not a compact model: the classic one has a variable per stored pair and the
    compact radius model one per distinct time - for 2,000 x 200 tens of thousands of
    rows whose degenerate LP takes seconds per solve. Measured with the cut loop before
    the HiGHS LP phase (one core, CBC): OR-Library pmed1-20 in 19 s in all (a truncated
    compact radius model enlarged until exact: 24 s; its untruncated form needs 62 s for
    pmed16 alone); a 2,000 x 200 road-network instance with p = 10 in 2 s (compact
    radius: 20 s; one master variable per row: 7 s); 201,149 cells x 403 candidates
    (13.7 M pairs) with p = 10 in 30 s.

    Measured now (``benchmarks/bench_median.py``, 2 cores shared with other jobs,
    2026-12-01), Porto Alegre's real roads, walking within 60 minutes, 1,124 populated
    cells x 1,227 candidates (420,427 pairs): p = 10 in 1.3 s (proved by the LP phase;
    previously 11 s with CBC), p = 20 in 58-93 s with HiGHS and 207-223 s with CBC as
    the master MILP solver (the MILP phase is 97 % of it), p = 40 in 12-15 s; a
    319 x 323 window (80,322 pairs), p = 10, in 0.1 s, where the previous LP loop with
    CBC ran 1,328 rounds in 300 s without reaching the MILP phase; OR-Library pmed16-20
    in 0.2-14 s.

    Parameters
    ----------
    times
        Demand x site travel times: a scipy sparse matrix whose stored entries are the
        reachable pairs (missing = not reachable within the matrix's cut-off; store zero
        times explicitly, e.g. as 1e-6), or a dense array with ``inf`` for unreachable
        pairs. Columns are all sites, existing ones included.
    weights
        Demand (e.g. population) per row, finite and >= 0. Rows of weight 0 do not
        affect the choice; they are assigned afterwards.
    p
        Number of **new** sites to open among the columns not in ``existing``. Existing
        sites are open in addition to these ``p``.
    existing
        Column indices of existing (fixed open) sites; not a boolean mask.
    unassigned_time
        None (default): every positive-weight row must reach an open site within the
        matrix; rows that reach no site at all raise :class:`GeoplanInputError`, and a
        ``p`` too small to reach all of them gives a plan with status ``"infeasible"``
        and an explanation. A number (at least the largest time in the matrix, e.g. its
        cut-off): a row with no open site within the matrix is charged this time and
        left unassigned.
    solver
        MILP solver of the master (step 6): ``"cbc"``, ``"highs"`` or a PuLP solver
        object (see :func:`geoplan.optimize.solver.solve`); None:
        :data:`~geoplan.optimize.solver.P_MEDIAN_SOLVER`. The LP phase always runs on
        HiGHS.
    time_limit
        Seconds for the whole call (heuristic, LP phase, every MILP round); it returns
        within about ``1.05 * time_limit + 1`` s. The heuristic gets at most 20 % of
        it, the LP phase half of what is left, the MILP rounds the rest (each what
        remains less its model-writing overhead; none starts with less than 0.25 s
        left). The best solution found is then returned with status ``"time_limit"``
        and a valid lower bound (NaN if no step proved one).
    gap
        Relative gap at which to stop (see above); the status is then ``"time_limit"``
        unless the gap left is within the optimality tolerance.
    force_open, force_closed
        Candidate columns that must / must not open (:mod:`geoplan.optimize.site_rules`).
        Exact transformations: a forced-open site is solved as open (like an existing
        one) and counted among the ``p`` new sites and in ``selected``; a forced-closed
        column is removed from the matrix.
    max_new_per_unit, site_unit
        Most new sites per unit (forced-open ones included) and the unit of every
        column. With caps the p-median is solved as the compact assignment MILP
        (:func:`_p_median_capped`): exact, but without the Benders pipeline's speed.
    verbose
        Show the master MILP solver's log (the LP phase stays quiet).

    Returns
    -------
    Plan
        ``selected``: the new columns; ``existing``; ``objective``: total weighted time
        :math:`\sum_i w_i \min_{j\ open} t_{ij}` (``unassigned_time`` for unserved rows);
        ``bound``, ``gap``; ``assignment``: the nearest open column of every row (-1 if
        none is reachable); ``covered_before`` / ``covered_after``: weight that reaches
        an existing / any open site within the matrix; ``details``: ``mean_time``
        (weighted mean), ``max_time``, ``unassigned_rows``, ``unassigned_weight``,
        ``heuristic_objective``, ``lp_bound``, ``lp_rounds``, ``lp_stop``, ``lp_s`` /
        ``milp_s`` (seconds of the LP / MILP phase), ``rounds`` (master MILP solves),
        ``pool_cuts``, ``fixed_closed``, ``fixed_open``, ``proof`` (see the steps).

    Raises
    ------
    GeoplanInputError
        For a malformed matrix (NaN or negative times), weights of the wrong length or
        with NaN/negative values, bad ``existing`` indices, ``p`` larger than the number
        of candidate columns, or rows that reach no site while ``unassigned_time`` is None.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([[1.0, 5.0, 9.0], [6.0, 2.0, 7.0], [9.0, 8.0, 1.0]])
    >>> plan = p_median(t, [10, 10, 1], p=2)
    >>> plan.selected.tolist(), plan.objective
    ([0, 1], 38.0)
    """
    if force_open is not None or force_closed is not None or max_new_per_unit is not None:
        return _p_median_with_rules(times, weights, p, existing=existing,
                                    unassigned_time=unassigned_time, solver=solver,
                                    time_limit=time_limit, gap=gap, force_open=force_open,
                                    force_closed=force_closed,
                                    max_new_per_unit=max_new_per_unit, site_unit=site_unit,
                                    verbose=verbose)
    t0 = time.perf_counter()
    if solver is None:
        solver = P_MEDIAN_SOLVER
    configure(solver, time_limit=time_limit, gap=gap)        # check the options first
    clock = Deadline(time_limit)
    prep = _prepare(times, weights, p, existing, unassigned_time)
    sub, p = prep.sub, prep.p
    h_open = _greedy(sub, p, 10.0 if time_limit is None else 0.2 * time_limit)
    details: dict[str, Any] = {}
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    enum = _enumerate(sub, p) if sub.n and 0 < p < sub.mc else None
    if enum is not None:
        best = enum if enum.any() else h_open
        c = _cost(sub, best)
        details.update(enumerated=math.comb(sub.mc, p), proof="enumeration")
        info = SolveInfo(OPTIMAL if math.isfinite(c) else INFEASIBLE, c, c, 0.0,
                         "enumeration", time.perf_counter() - t1)
    elif sub.n == 0 or p in (0, sub.mc):
        # nothing to choose: no row depends on the choice, or every candidate opens
        best = h_open if p < sub.mc else np.ones(sub.mc, dtype=bool)
        c = _cost(sub, best)
        details["proof"] = "no choice"
        info = SolveInfo(OPTIMAL if math.isfinite(c) else INFEASIBLE, c, c, 0.0, "none", 0.0)
    else:
        run = _Run(solver, clock, gap, details, verbose)
        status, best, _, bound = _solve_exact(sub, p, h_open, run)
        build_s += details.pop("_build_s")
        info = SolveInfo(status, math.nan, bound, math.nan, details.pop("solver"),
                         details.pop("solve_s"))
    if info.status == INFEASIBLE or best is None:
        return _no_solution_plan(prep, info, build_s, details)
    return _median_plan(prep, best, h_open, info, build_s, details)


def _p_median_capped(times: Any, weights: Any, p: int, ex: NDArray[np.intp], rules: Any, *,
                     unassigned_time: Any = None, solver: Any = None,
                     time_limit: float | None = None, gap: float | None = None,
                     verbose: bool = False) -> Plan:
    r"""The p-median with per-unit caps, as the compact assignment MILP.

    .. math::

        \min \sum_{(i,j) \in R} w_i t_{ij} x_{ij} + \sum_i w_i u z_i \quad \text{s.t.}
        \quad \sum_j x_{ij} + z_i = 1, \quad x_{ij} \le y_j \;(j \notin E), \quad
        \sum_{j \notin E} y_j = p, \quad \sum_{j \in J_g} y_j \le k_g,

    with :math:`y_j = 1` for forced-open and 0 for forced-closed sites and :math:`z_i = 0`
    unless ``unassigned_time`` :math:`u` is given (ReVelle & Swain 1970). Exact, one MILP
    solved by :func:`~geoplan.optimize.solver.solve` (its proof is the status); slower
    than the Benders pipeline on large instances, which does not take caps yet.
    """
    t0 = time.perf_counter()
    if solver is None:
        solver = P_MEDIAN_SOLVER
    rows = _sorted_rows(rules.drop_closed(sp.csr_matrix(times, dtype=float))
                        if sp.issparse(times) else times)
    w = _check_weights(weights, rows.n)
    n, m = rows.n, rows.m
    is_ex = np.zeros(m, bool)
    is_ex[ex] = True
    _check_p(p, int((~is_ex).sum()), int(ex.size))
    u = _check_unassigned(unassigned_time, rows)
    closed = np.zeros(m, bool)
    closed[rules.force_closed] = True
    live = (w > 0)[rows.row] & ~closed[rows.col]
    if unassigned_time is None:
        reach = np.bincount(rows.row[live], minlength=n) > 0
        lonely = (w > 0) & ~reach
        if lonely.any():
            raise _unreachable_error(int(lonely.sum()), n, float(w[lonely].sum()),
                                     "reach no site at all within the matrix")
    prob = pulp.LpProblem("p_median_capped", pulp.LpMinimize)
    forced = set(rules.force_open.tolist())
    # integer in [0, 1], not "Binary": pulp resets a binary's bounds to 0..1
    y = {j: pulp.LpVariable(f"y{j}", lowBound=1 if j in forced else 0,
                            upBound=0 if closed[j] else 1, cat="Integer")
         for j in np.flatnonzero(~is_ex).tolist()}
    pairs = np.flatnonzero(live)
    x = [pulp.LpVariable(f"x{k}", 0, 1) for k in range(pairs.size)]
    terms = [(x[k], float(w[rows.row[e]] * rows.t[e])) for k, e in enumerate(pairs.tolist())]
    per_row: dict[int, list[Any]] = {}
    for k, e in enumerate(pairs.tolist()):
        per_row.setdefault(int(rows.row[e]), []).append(x[k])
        j = int(rows.col[e])
        if j in y:
            prob += pulp.LpConstraint(pulp.LpAffineExpression([(x[k], 1.0), (y[j], -1.0)]),
                                      pulp.LpConstraintLE, f"open{k}", 0.0)
    for i in np.flatnonzero(w > 0).tolist():
        expr = pulp.LpAffineExpression([(v, 1.0) for v in per_row.get(i, [])])
        if math.isfinite(u):
            z = pulp.LpVariable(f"z{i}", 0, 1)
            expr.addterm(z, 1.0)
            terms.append((z, float(w[i] * u)))
        prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"serve{i}", 1.0)
    prob += pulp.LpAffineExpression(terms)
    prob += pulp.LpConstraint(pulp.LpAffineExpression([(v, 1.0) for v in y.values()]),
                              pulp.LpConstraintEQ, "p", float(p))
    for g, cap in enumerate(rules.cap.tolist()):
        cols = [y[j] for j in np.flatnonzero(rules.group == g).tolist() if j in y]
        if len(cols) > cap:
            prob += pulp.LpConstraint(pulp.LpAffineExpression([(v, 1.0) for v in cols]),
                                      pulp.LpConstraintLE, f"cap{g}", float(cap))
    build_s = time.perf_counter() - t0
    info = solve(prob, solver, time_limit=time_left(time_limit, t0), gap=gap, msg=verbose)
    details: dict[str, Any] = {"formulation": "compact assignment (per-unit caps)",
                               **rules.details()}
    if not info.has_solution:
        plan = Plan.from_solve("p_median", info, selected=[], existing=ex, build_s=build_s,
                               total_demand=float(w.sum()), details=details)
        if info.status == INFEASIBLE:
            plan.explanation = {"message": f"no {p} new sites meet the per-unit caps and "
                                           "the site rules", "hint": "relax the caps or p"}
        plan.problem = prob
        return plan
    sel = np.array(sorted(j for j, v in y.items() if (v.varValue or 0) > 0.5), np.intp)
    is_open = is_ex.copy()
    is_open[sel] = True
    tt, jj = _nearest_open(rows, is_open)
    pos = w > 0
    cost = np.where(np.isfinite(tt), tt, u)
    info = with_true_objective(info, float(w[pos] @ cost[pos]))
    t_ex, _ = _nearest_open(rows, is_ex)
    plan = Plan.from_solve("p_median", info, selected=sel, existing=ex, build_s=build_s,
                           total_demand=float(w.sum()),
                           covered_before=float(w[np.isfinite(t_ex)].sum()),
                           covered_after=float(w[np.isfinite(tt)].sum()), assignment=jj,
                           details=details)
    plan.problem = prob
    return plan


def _p_median_with_rules(times: Any, weights: Any, p: int, *, existing: Any,
                         force_open: Any, force_closed: Any, max_new_per_unit: Any,
                         site_unit: Any, **kw: Any) -> Plan:
    """:func:`p_median` with site rules, by exact transformation of the instance."""
    T = sp.csr_matrix(times, dtype=float) if sp.issparse(times) else None
    m = T.shape[1] if T is not None else int(np.asarray(times, float).shape[1])
    ex = _check_existing(existing, m)
    rules = check_site_rules(m, ex, force_open=force_open, force_closed=force_closed,
                             max_new_per_unit=max_new_per_unit, site_unit=site_unit)
    fo = rules.force_open
    if rules.cap is not None:
        return _p_median_capped(times, weights, int(p), ex, rules, **kw)
    if int(p) < fo.size:
        raise GeoplanInputError(f"force_open opens {fo.size} sites but p = {p}",
                                field="force_open", hint="raise p or force fewer sites open")
    if T is not None:
        T = rules.drop_closed(T)
    else:
        T = np.array(times, dtype=float)
        T[:, rules.force_closed] = np.inf
    plan = p_median(T, weights, int(p) - int(fo.size),
                    existing=np.union1d(ex, fo).astype(np.intp), **kw)
    plan.selected = np.union1d(plan.selected, fo).astype(np.intp)
    plan.existing = ex
    if plan.feasible:
        rows = _sorted_rows(T)
        is_ex = np.zeros(m, bool)
        is_ex[ex] = True
        t_ex, _ = _nearest_open(rows, is_ex)
        w = np.asarray(weights, float)
        plan.covered_before = float(w[np.isfinite(t_ex)].sum())
    plan.details.update(rules.details())
    return plan


def p_median_from_problem(
    problem: Any,
    p: int,
    *,
    minutes: float | None = None,
    unassigned_minutes: float | None = None,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    force_open: Any = None,
    force_closed: Any = None,
    max_new_per_unit: int | Mapping[str, int] | None = None,
    verbose: bool = False,
) -> Plan:
    """p-median on a :class:`~geoplan.optimize.gis.SiteProblem` (the GIS front door).

    Residents travel to their nearest open site; ``p`` new candidate sites are chosen to
    minimise the population-weighted travel time, the problem's existing facilities
    staying open. The problem's matrix only holds pairs within its cut-off, so a cell
    with no open site within the cut-off is charged ``unassigned_minutes`` (default: the
    cut-off) - a lower bound on its true time. Such cells are counted in
    ``details["unassigned_population"]`` and a :class:`~geoplan.GeoplanWarning` is
    issued: build the problem with a cut-off well above the times that matter (e.g. 60
    minutes) for a faithful p-median.

    Parameters
    ----------
    problem
        From :func:`geoplan.optimize.gis.build_problem`.
    p
        Number of new sites among the candidates.
    minutes
        Time standard for the coverage figures (``covered_before/after``, ``by_unit``);
        default: the problem's cut-off.
    unassigned_minutes
        Time charged to cells with no open site within the cut-off (>= the cut-off).
    solver, time_limit, gap, verbose
        See :func:`p_median`.
    force_open, force_closed, max_new_per_unit
        Site rules with candidate ids (see :func:`p_median`).

    Returns
    -------
    Plan
        As :func:`p_median`, with times in **minutes** (``objective`` = person-minutes,
        ``details["mean_time"]`` = population-weighted mean minutes), ``by_unit``
        (coverage within ``minutes`` per admin unit plus ``mean_min_before`` /
        ``mean_min_after``) and ``sites``.
    """
    cutoff = float(problem.cutoff_s) / 60.0
    lim = cutoff if minutes is None else float(minutes)
    if not (0 < lim <= cutoff * (1 + 1e-12)):
        raise GeoplanInputError(f"minutes must be in (0, {cutoff:g}] (the problem's cut-off), "
                                f"got {minutes!r}", field="minutes")
    unassigned = cutoff if unassigned_minutes is None else unassigned_minutes
    tm = sp.csr_matrix(problem.times, dtype=np.float64, copy=True)
    tm.data = tm.data / 60.0
    plan = p_median(tm, problem.demand, p, existing=problem.existing,
                    unassigned_time=unassigned, solver=solver, time_limit=time_limit, gap=gap,
                    verbose=verbose,
                    **gis_site_rules(problem, force_open, force_closed, max_new_per_unit))
    if not plan.feasible:
        return plan
    rows = _sorted_rows(tm)
    is_ex = np.zeros(rows.m, dtype=bool)
    is_ex[problem.existing] = True
    is_open = is_ex.copy()
    is_open[plan.selected] = True
    before, _ = _nearest_open(rows, is_ex)
    after, _ = _nearest_open(rows, is_open)
    w = np.asarray(problem.demand, dtype=np.float64)
    tol = lim * (1 + 1e-12)
    cov_b, cov_a = before <= tol, after <= tol
    plan.covered_before = float(w[cov_b].sum())
    plan.covered_after = float(w[cov_a].sum())
    by_unit = coverage_by_unit(problem, cov_b, cov_a)
    unit = problem.unit if problem.unit is not None else np.full(w.size, "all", object)
    frame = pd.DataFrame({"admin_code": pd.Series(unit, dtype=object).fillna("(none)"),
                          "w": w, "b": w * np.minimum(before, float(unassigned)),
                          "a": w * np.minimum(after, float(unassigned))})
    g = frame.groupby("admin_code").sum()
    g.loc["total"] = frame[["w", "b", "a"]].sum()
    den = g["w"].where(g["w"] > 0)
    by_unit["mean_min_before"] = by_unit["admin_code"].map(g["b"] / den).to_numpy()
    by_unit["mean_min_after"] = by_unit["admin_code"].map(g["a"] / den).to_numpy()
    plan.by_unit = by_unit
    plan.sites = plan_sites(problem, plan)
    lost = (w > 0) & ~np.isfinite(after)
    plan.details.update(minutes=lim, unassigned_minutes=float(unassigned), mode=problem.mode,
                        unassigned_population=float(w[lost].sum()))
    if lost.any():
        warnings.warn(
            f"{int(lost.sum()):,} cells ({w[lost].sum():,.0f} people) have no open site "
            f"within the problem's {cutoff:g}-minute cut-off and were charged "
            f"{float(unassigned):g} minutes; build the problem with a larger cut-off for a "
            "faithful p-median", GeoplanWarning, stacklevel=2)
    return plan

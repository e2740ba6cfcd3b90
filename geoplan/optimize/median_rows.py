r"""The p-median's data: sorted time rows, the merged decision sub-problem, enumeration.

Why separate: every exact step of :mod:`geoplan.optimize.median` (bounds, Benders cuts,
heuristics, enumeration) works on the same compact form of the instance, built here
once: each demand row's candidate times sorted ascending (:class:`_Rows`), its *cap* (the
time to the nearest existing site, or the unassigned penalty), and the sub-problem of
the rows some candidate can serve below their cap, identical rows merged with summed
weights (:class:`_Sub`). The formulation itself is in
:func:`geoplan.optimize.median.p_median`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from geoplan._errors import GeoplanInputError

# --------------------------------------------------------------------------------------
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
    o = _row_time_order(r, c, t, n)
    r, c, t = r[o], c[o], t[o]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
    return _Rows(n=int(n), m=int(m), indptr=indptr, row=r, col=c, t=t)


def _row_time_order(r: NDArray[np.int64], c: NDArray[np.int64], t: NDArray[np.float64],
                    n: int) -> NDArray[np.int64]:
    """The order that sorts pairs by row, then time, then column (exact).

    ``r`` must be non-decreasing with ``c`` ascending within each row (CSR order).
    Why not two stable argsorts (time, then row): on a 49 M-pair drive matrix they take
    ~20 s. One stable sort of a 63-bit key does it in a fraction: the row in the high
    bits and the top bits of the time's IEEE pattern (monotone for times >= 0) below.
    Equal times have equal keys, so they keep column order; times that agree only in
    those bits (relative difference below ``2**-(52 - row bits)``) may come out of
    order, and those few rows are found and re-sorted exactly.
    """
    if r.size == 0:
        return np.zeros(0, dtype=np.int64)
    nb = max(1, int(n - 1).bit_length())
    key = np.ascontiguousarray(t, dtype=np.float64).view(np.int64) >> np.int64(nb)
    key |= r << np.int64(63 - nb)
    o = np.argsort(key, kind="stable")
    del key
    ts = t[o]
    wrong = ts[1:] < ts[:-1]
    wrong &= r[1:] == r[:-1]                       # rows keep their place: r[o] == r
    if wrong.any():
        bad = np.zeros(n, dtype=bool)
        bad[r[1:][wrong]] = True
        sel = np.flatnonzero(bad[r])                # positions of the rows to re-sort
        fix = np.lexsort((c[o[sel]], ts[sel], r[sel]))
        o[sel] = o[sel][fix]
    return o


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
    ``2**-40`` of the largest time; candidates found by a 64-bit hash (with the row's
    length and cap) are verified entry by entry. Returns ``(row, col, t, w, cap, n, constant)``.
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
    del key
    sig = np.stack([np.diff(ptr).astype(np.uint64), cq.astype(np.uint64),
                    np.add.reduceat(h1, ptr[:-1])], axis=1)
    del h1
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

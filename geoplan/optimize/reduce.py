"""Exact size reduction of covering instances before they reach the solver.

Why: a population raster has hundreds of thousands of cells but far fewer distinct
*coverage sets* (which candidate sites reach a cell); cells with the same set behave
identically in every covering model, so they are merged with their weights summed.
Cells already covered by an existing facility, and cells no candidate reaches, are
constants. Candidate columns that cover nothing left are dropped, and a column whose
rows are a subset of another's that costs no more is dominated: some optimal solution
never uses it. The optimum is unchanged by every step (tested against brute force).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from geoplan._errors import GeoplanInputError

from .plan import Reduction

__all__ = ["CoverInstance", "check_covering_inputs", "reduce_covering"]

#: Skip the dominance check when the column overlap product would exceed this many pairs.
DOMINANCE_MAX_PAIRS = 20_000_000


@dataclass
class CoverInstance:
    """A reduced covering instance and the way back to the original indices.

    Attributes
    ----------
    A
        ``(rows, cols)`` boolean CSR matrix of the merged rows over the kept candidates.
    w
        Weight of each merged row.
    row_unit
        Unit label of each merged row (rows of different units are never merged when
        units are given), or None.
    cols
        Original column index of each kept candidate.
    costs
        Cost of each kept candidate (ones when no costs are given).
    covered_fixed
        Per original row: already covered by an existing column.
    coverable
        Per original row: reachable by at least one column (existing or candidate).
    reduction
        What was merged and dropped.
    col_group
        Cap group of each kept candidate (``-1``: uncapped), or None (see
        :mod:`geoplan.optimize.site_rules`).
    group_cap
        Most new sites per cap group, or None.
    """

    A: sparse.csr_matrix
    w: NDArray[np.float64]
    row_unit: NDArray[np.object_] | None
    cols: NDArray[np.intp]
    costs: NDArray[np.float64]
    covered_fixed: NDArray[np.bool_]
    coverable: NDArray[np.bool_]
    reduction: Reduction
    col_group: NDArray[np.intp] | None = None
    group_cap: NDArray[np.int64] | None = None


def check_covering_inputs(coverage: ArrayLike | sparse.spmatrix, weights: ArrayLike | None,
                          existing: ArrayLike | None, costs: ArrayLike | None,
                          unit: ArrayLike | None = None,
                          ) -> tuple[sparse.csr_matrix, NDArray[np.float64], NDArray[np.intp],
                                     NDArray[np.float64] | None, NDArray[np.object_] | None]:
    """Validate and normalise the numeric inputs shared by the covering models.

    Returns
    -------
    coverage (bool CSR), weights, existing indices, costs or None, unit or None.

    Raises
    ------
    GeoplanInputError
        Naming the argument at fault.
    """
    try:
        C = sparse.csr_matrix(coverage)
    except (TypeError, ValueError) as exc:
        raise GeoplanInputError(f"coverage must be a 2-D matrix: {exc}",
                                field="coverage") from None
    if C.ndim != 2:
        raise GeoplanInputError("coverage must be a 2-D demand x site matrix", field="coverage")
    C = (C != 0).astype(bool).tocsr()
    C.sort_indices()
    n, m = C.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != (n,):
        raise GeoplanInputError(f"weights has {w.size} values for {n} demand rows",
                                field="weights")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise GeoplanInputError("weights must be finite and non-negative", field="weights")
    ex = np.unique(np.asarray([] if existing is None else existing, dtype=np.int64).ravel())
    if ex.size and (ex.min() < 0 or ex.max() >= m):
        raise GeoplanInputError(f"existing holds indices outside 0..{m - 1}", field="existing",
                                hint="existing = column indices of the open facilities")
    c = None
    if costs is not None:
        c = np.asarray(costs, dtype=float).ravel()
        if c.shape != (m,):
            raise GeoplanInputError(f"costs has {c.size} values for {m} sites", field="costs")
        cand = np.setdiff1d(np.arange(m), ex)
        if not np.all(np.isfinite(c[cand])) or np.any(c[cand] < 0):
            raise GeoplanInputError("candidate costs must be finite and non-negative",
                                    field="costs")
    u = None
    if unit is not None:
        u = np.asarray(unit, dtype=object).ravel()
        if u.shape != (n,):
            raise GeoplanInputError(f"unit has {u.size} values for {n} demand rows",
                                    field="unit")
    return C, w, ex.astype(np.intp), c, u


def _row_keys(A: sparse.csr_matrix, unit: NDArray[np.object_] | None) -> NDArray[np.int64]:
    """Group id per row: rows with identical column sets (and unit) share an id."""
    rng = np.random.default_rng(0x9E3779B9)
    h1 = rng.integers(1, 2**62, A.shape[1], dtype=np.int64)
    h2 = rng.integers(1, 2**62, A.shape[1], dtype=np.int64)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    with np.errstate(over="ignore"):
        s1 = np.bincount(rows, weights=None, minlength=A.shape[0]).astype(np.int64)
        a1 = np.zeros(A.shape[0], np.int64)
        a2 = np.zeros(A.shape[0], np.int64)
        np.add.at(a1, rows, h1[A.indices])
        np.add.at(a2, rows, h2[A.indices])
    frame = pd.DataFrame({"n": s1, "a": a1, "b": a2})
    if unit is not None:
        frame["u"] = pd.Series(unit, dtype=object).astype(str).to_numpy()
    return frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()


def _dominated(A: sparse.csr_matrix, costs: NDArray[np.float64],
               group: NDArray[np.intp] | None = None) -> NDArray[np.bool_]:
    """Columns whose rows are a subset of a no-more-expensive column's rows.

    With cap groups (per-unit limits on new sites) a column is only dominated by one of
    its own group or an uncapped one: swapping to it keeps every cap.
    """
    m = A.shape[1]
    drop = np.zeros(m, bool)
    if m < 2:
        return drop
    Af = A.astype(np.float64).tocsc()
    size = np.asarray(Af.sum(axis=0)).ravel()
    # estimate of pairs in A^T A: sum over rows of (row nnz)^2
    per_row = np.diff(A.indptr).astype(np.float64)
    if float(per_row @ per_row) > DOMINANCE_MAX_PAIRS:
        return drop
    S = (Af.T @ Af).tocoo()
    j, k, v = S.row, S.col, S.data
    sub = (j != k) & (v >= size[j] - 0.5)                 # rows(j) within rows(k)
    if group is not None:
        sub &= (group[k] == group[j]) | (group[k] < 0)
    j, k = j[sub], k[sub]
    cheaper = costs[k] < costs[j] - 1e-12
    same_cost = np.abs(costs[k] - costs[j]) <= 1e-12
    bigger = size[k] > size[j] + 0.5
    # identical columns at equal cost: keep the lower index
    tie = same_cost & ~bigger & (k < j)
    dom = cheaper | (same_cost & bigger) | tie
    drop[j[dom]] = True
    return drop


def reduce_covering(C: sparse.csr_matrix, w: NDArray[np.float64], existing: NDArray[np.intp],
                    costs: NDArray[np.float64] | None = None,
                    unit: NDArray[np.object_] | None = None, *,
                    dominance: bool = True, col_group: NDArray[np.intp] | None = None,
                    group_cap: NDArray[np.int64] | None = None) -> CoverInstance:
    """Merge identical demand rows, fix existing coverage, drop useless columns.

    Parameters
    ----------
    C
        Boolean CSR ``(demand, sites)`` coverage (validated).
    w
        Demand weights.
    existing
        Columns fixed open.
    costs
        Per-site costs (None: uniform).
    unit
        Unit label per row; rows of different units are kept apart (for per-unit
        targets).
    dominance
        Drop dominated candidate columns (safe for set covering and maximal covering with
        a count and/or budget limit, and with cap groups).
    col_group, group_cap
        Cap group of every column (``-1``: uncapped) and the most new sites per group
        (per-unit limits, :mod:`geoplan.optimize.site_rules`); kept on the instance.

    Returns
    -------
    CoverInstance
    """
    n, m = C.shape
    is_ex = np.zeros(m, bool)
    is_ex[existing] = True
    cand = np.flatnonzero(~is_ex)
    covered_fixed = (np.asarray(C[:, existing].sum(axis=1)).ravel() > 0 if existing.size
                     else np.zeros(n, bool))
    Ac = C[:, cand].tocsr()
    reach = np.diff(Ac.indptr) > 0
    coverable = covered_fixed | reach
    live = np.flatnonzero(reach & ~covered_fixed & (w > 0))
    A = Ac[live]
    notes: list[str] = []
    if covered_fixed.any():
        notes.append(f"{int(covered_fixed.sum()):,} rows already covered by existing (or forced-open) sites")
    if (~coverable).any():
        notes.append(f"{int((~coverable).sum()):,} rows reachable by no site")
    keys = _row_keys(A, None if unit is None else unit[live])
    n_groups = int(keys.max()) + 1 if keys.size else 0
    first = np.full(n_groups, -1, np.int64)
    first[keys[::-1]] = np.arange(keys.size)[::-1]
    wm = np.bincount(keys, weights=w[live], minlength=n_groups)
    A = A[first].tocsr() if n_groups else A[:0]
    row_unit = None if unit is None else unit[live][first]
    cost_all = np.ones(m) if costs is None else costs
    keep = np.diff(A.tocsc().indptr) > 0
    if dominance and A.shape[0]:
        keep &= ~_dominated(A, cost_all[cand],
                            None if col_group is None else col_group[cand])
    dropped = int((~keep).sum())
    if dropped:
        notes.append(f"{dropped:,} candidate columns empty or dominated")
    A = A[:, np.flatnonzero(keep)].tocsr()
    A.sort_indices()
    red = Reduction(demand_in=n, demand_out=int(A.shape[0]), candidates_in=int(cand.size),
                    candidates_out=int(keep.sum()), notes=notes)
    return CoverInstance(A=A, w=wm, row_unit=row_unit, cols=cand[keep],
                         costs=cost_all[cand[keep]], covered_fixed=covered_fixed,
                         coverable=coverable, reduction=red,
                         col_group=None if col_group is None else col_group[cand[keep]],
                         group_cap=group_cap)


def merge_same_order(times: sparse.csr_matrix, weights: NDArray[np.float64],
                     ) -> tuple[sparse.csr_matrix, NDArray[np.float64], NDArray[np.int64]]:
    """Merge demand rows that rank their reachable sites in the same order (p-median).

    Why: in a p-median every row is served by its nearest open site, which depends only
    on the row's *order* of sites by time. Rows with the same order (same reachable set,
    ties broken by column) are served by the same site in every solution, so they can
    be merged into one row whose time to site j is the weight-averaged time: the merged
    cost ``W_g * mean_t_gj = sum_i w_i t_ij`` is exactly the group's cost. On a
    population raster with a few candidate sites this turns ~10^5 rows into ~10^3.

    Parameters
    ----------
    times
        ``(rows, sites)`` CSR of travel times (stored entries = reachable pairs).
    weights
        Row weights (rows of weight 0 keep their own group and weight 0).

    Returns
    -------
    mean_times : scipy.sparse.csr_matrix
        ``(groups, sites)`` weight-averaged times (plain average for zero-weight groups).
    group_weights : numpy.ndarray
        Summed weight per group.
    group : numpy.ndarray
        Group index of every input row.
    """
    T = sparse.csr_matrix(times, dtype=float)
    T.sort_indices()
    n, m = T.shape
    w = np.asarray(weights, float)
    rows = np.repeat(np.arange(n), np.diff(T.indptr))
    order = np.lexsort((T.indices, T.data, rows))           # by row, then time, then column
    cols = T.indices[order]
    pos = np.arange(order.size) - T.indptr[rows]             # rank within the row
    rng = np.random.default_rng(0x51ED)
    h1 = rng.integers(1, 2**62, m, dtype=np.int64)
    h2 = rng.integers(1, 2**62, m, dtype=np.int64)
    p1 = rng.integers(1, 2**62, max(m, 1), dtype=np.int64)
    with np.errstate(over="ignore"):
        a = np.zeros(n, np.int64)
        b = np.zeros(n, np.int64)
        np.add.at(a, rows, h1[cols] * p1[pos])
        np.add.at(b, rows, h2[cols] ^ p1[pos])
    key = pd.DataFrame({"n": np.diff(T.indptr), "a": a, "b": b})
    group = key.groupby(["n", "a", "b"], sort=False).ngroup().to_numpy().astype(np.int64)
    g = int(group.max()) + 1 if n else 0
    gw = np.bincount(group, weights=w, minlength=g)
    gcount = np.bincount(group, minlength=g).astype(float)
    # weighted mean per (group, site); plain mean where the group weighs nothing
    wt = np.where(gw[group] > 0, w / np.where(gw[group] > 0, gw[group], 1.0),
                  1.0 / gcount[group])
    M = sparse.csr_matrix((T.data * wt[rows], (group[rows], T.indices)), shape=(g, m))
    M.sum_duplicates()
    return M, gw, group

r"""Good p-median plans fast: greedy adding, then best-improvement vertex exchange.

Why: the exact solver of :mod:`geoplan.optimize.median` needs a good plan early - its
cost is the upper bound that reduced-cost fixing compares against, and the first
incumbent of the master MILP. Greedy adding then vertex exchange (Teitz & Bart 1968)
is the classical pair; nothing here claims optimality. Works on the merged sub-problem
of :mod:`geoplan.optimize.median_rows`.
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray

from .median_rows import _first_second, _row_ptr, _Sub, _wsum

# --------------------------------------------------------------------------------------


def _penalised_cap(sub: _Sub) -> NDArray[np.float64]:
    finite = sub.cap[np.isfinite(sub.cap)]
    top = max(float(sub.t.max(initial=0.0)), float(finite.max(initial=0.0)))
    return np.where(np.isfinite(sub.cap), sub.cap, 1e3 * (top + 1.0))


def _greedy(sub: _Sub, p: int, max_s: float) -> NDArray[np.bool_]:
    """``p`` candidates by greedy adding then vertex exchange (a starting incumbent).

    Rows that must be served get a large finite penalty so that the heuristic prefers
    serving them. ``max_s`` bounds the whole call: when it runs out while adding, the
    remaining sites are the next best by the last gains computed (no exchange).
    """
    t0 = time.perf_counter()
    is_open = np.zeros(sub.mc, dtype=bool)
    if p == 0:
        return is_open
    cur = _penalised_cap(sub)
    wr = sub.w[sub.row]
    by_col = np.argsort(sub.col, kind="stable")
    col_ptr = _row_ptr(sub.col, sub.mc)
    for k in range(p):
        gain = _wsum(sub.col, weights=wr * np.maximum(cur[sub.row] - sub.t, 0.0),
                           minlength=sub.mc)
        gain[is_open] = -1.0
        if k and time.perf_counter() - t0 > max_s:
            is_open[np.argsort(-gain, kind="stable")[:p - k]] = True
            return is_open
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

"""Sorting a p-median's time rows: geoplan's one-key sort vs the obvious numpy ways.

Why: every p-median call first sorts each demand row's stored times ascending
(:func:`geoplan.optimize.median_rows._sorted_rows`). On a county-wide drive matrix
(201,149 cells x 403 candidates within 60 minutes: 49 M pairs) two stable argsorts took
~20 s of a call whose time limit was 1 s. geoplan sorts one 63-bit key (row in the high
bits, the time's IEEE pattern below) and re-sorts exactly the few rows whose times agree
in the kept bits.

Compared in the same run, on the same CSR matrix (random times in (0, 3600] s, rows
grouped as a CSR matrix stores them), each result checked equal to ``np.lexsort``:

- ``geoplan``: :func:`geoplan.optimize.median_rows._row_time_order`;
- ``two stable argsorts``: by time, then stably by row (the previous code);
- ``np.lexsort``: ``lexsort((col, time, row))``.

Usage::

    python benchmarks/bench_median_rows.py [--rows 200000] [--cols 400] [--density 0.6]

Measured 2026-12-02 (2 cores, 200,000 x 400 at density 0.6: 48 M pairs): see the
printed table; geoplan 4.1 s, two stable argsorts 21.7 s (5.4x), lexsort 34.2 s
(8.5x).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from geoplan.optimize.median_rows import _row_time_order


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--cols", type=int, default=400)
    ap.add_argument("--density", type=float, default=0.6)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    T = sp.random(a.rows, a.cols, density=a.density, format="csr", random_state=rng,
                  data_rvs=lambda k: rng.uniform(1.0, 3600.0, k))
    T.sort_indices()
    n = T.shape[0]
    r = np.repeat(np.arange(n, dtype=np.int64), np.diff(T.indptr))
    c = T.indices.astype(np.int64)
    t = T.data.astype(np.float64)
    print(f"{n:,} x {T.shape[1]:,}: {t.size:,} pairs")

    def two_argsorts() -> np.ndarray:
        o = np.argsort(t, kind="stable")
        return o[np.argsort(r[o], kind="stable")]

    runs = {"geoplan": lambda: _row_time_order(r, c, t, n),
            "two stable argsorts": two_argsorts,
            "np.lexsort": lambda: np.lexsort((c, t, r))}
    secs: dict[str, float] = {}
    ref = None
    for name, fn in runs.items():
        t0 = time.perf_counter()
        o = fn()
        secs[name] = time.perf_counter() - t0
        ref = o if ref is None else ref
        assert np.array_equal(o, ref), f"{name} differs"
    for name, s in secs.items():
        print(f"{name:22s} {s:7.2f} s   x{s / secs['geoplan']:.1f} of geoplan")


if __name__ == "__main__":
    main()

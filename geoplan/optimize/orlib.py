"""Readers for J.E. Beasley's OR-Library p-median benchmark (``pmed1`` - ``pmed40``).

Why: the OR-Library instances with their proven optima are the standard yardstick for
p-median solvers; reading them correctly lets anyone check geoplan's p-median (or their
own) against published optima.

The format (Beasley 1990, "OR-Library: distributing test problems by electronic mail",
J. Oper. Res. Soc. 41(11)) is a first line ``n edges p`` followed by ``edges`` lines
``i j cost`` (1-based node numbers) of an undirected graph. The distance between two
nodes is the shortest-path length over that graph; every node is both a demand point
(weight 1) and a candidate site. Some edges appear more than once: as in Beasley's own
reading code, **the later line overwrites the earlier one** - taking the minimum instead
gives different distances and objective values that disagree with the published optima.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import shortest_path

from geoplan._errors import GeoplanInputError
from geoplan.inputs._validate import check_file


def _ints(line: str, path: Path, lineno: int, what: str, count: int) -> list[int]:
    parts = line.split()
    try:
        values = [int(float(v)) for v in parts[:count]]
    except ValueError:
        values = []
    if len(parts) < count or len(values) < count:
        raise GeoplanInputError(f"expected {count} numbers ({what}), got {line.strip()!r}",
                                path=path, row=f"line {lineno}",
                                hint="is this an OR-Library pmed file?")
    return values


def read_orlib_pmed(path: str | Path) -> tuple[NDArray[np.float64], int]:
    """Read an OR-Library p-median instance as a full distance matrix and ``p``.

    Parameters
    ----------
    path
        A ``pmedN.txt`` file: first line ``n edges p``, then ``edges`` lines ``i j cost``
        (1-based, undirected). A repeated edge takes the cost of its **last** line.

    Returns
    -------
    dist : ndarray of float64, shape (n, n)
        All-pairs shortest-path distances (symmetric, zero diagonal; ``inf`` between
        disconnected nodes). Use it as both the demand x site time matrix and, with
        ``weights = 1``, the p-median instance whose optimum OR-Library lists.
    p : int
        Number of medians to locate.

    Raises
    ------
    GeoplanInputError
        If the file is missing, malformed, has fewer edge lines than announced, node
        numbers outside ``1..n`` or negative costs.
    """
    p_path = check_file(path)
    with open(p_path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    body = [(k + 1, ln) for k, ln in enumerate(lines) if ln.strip()]
    if not body:
        raise GeoplanInputError("no header line 'n edges p'", path=p_path)
    n, n_edges, p = _ints(body[0][1], p_path, body[0][0], "n edges p", 3)
    if n < 1 or n_edges < 0 or not (1 <= p <= n):
        raise GeoplanInputError(f"invalid header n={n}, edges={n_edges}, p={p}",
                                path=p_path, row=f"line {body[0][0]}")
    edge_lines = body[1:1 + n_edges]
    if len(edge_lines) < n_edges:
        raise GeoplanInputError(f"header announces {n_edges} edges but the file has "
                                f"{len(edge_lines)} edge lines", path=p_path,
                                hint="the file may be truncated")
    e = np.array([_ints(ln, p_path, k, "i j cost", 3) for k, ln in edge_lines],
                 dtype=np.int64).reshape(-1, 3)
    bad = np.flatnonzero((e[:, 0] < 1) | (e[:, 0] > n) | (e[:, 1] < 1) | (e[:, 1] > n))
    if bad.size:
        k = edge_lines[bad[0]][0]
        raise GeoplanInputError(f"node number outside 1..{n}", path=p_path, row=f"line {k}")
    neg = np.flatnonzero(e[:, 2] < 0)
    if neg.size:
        raise GeoplanInputError("negative edge cost", path=p_path,
                                row=f"line {edge_lines[neg[0]][0]}")
    a = np.minimum(e[:, 0], e[:, 1]) - 1
    b = np.maximum(e[:, 0], e[:, 1]) - 1
    keep = a != b                                   # self-loops never shorten a path
    a, b, c = a[keep], b[keep], e[keep, 2].astype(np.float64)
    # the LAST line of a repeated edge wins: unique over the reversed list keeps the
    # first occurrence there, i.e. the last one in the file
    key = a * n + b
    _, first_rev = np.unique(key[::-1], return_index=True)
    last = key.size - 1 - first_rev
    a, b, c = a[last], b[last], c[last]
    # csr_matrix keeps explicit zeros, and csgraph treats stored zeros as edges, so a
    # zero-cost edge stays an edge
    g = sp.csr_matrix((c, (a, b)), shape=(n, n))
    dist = shortest_path(g, method="D", directed=False)
    return dist, int(p)


def read_orlib_optima(path: str | Path) -> dict[str, float]:
    """Read OR-Library's table of proven optima (``pmedopt.txt``).

    Parameters
    ----------
    path
        Text file with lines ``<instance> <optimal value>``, e.g. ``pmed1 5819``;
        lines that do not end in a number (headers) are skipped.

    Returns
    -------
    dict
        Instance name (e.g. ``"pmed1"``) -> optimal objective value.

    Raises
    ------
    GeoplanInputError
        If the file is missing or lists no instance.
    """
    p_path = check_file(path)
    out: dict[str, float] = {}
    with open(p_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            try:
                value = float(parts[-1])
            except ValueError:
                continue
            out[parts[0]] = value
    if not out:
        raise GeoplanInputError("no '<instance> <value>' lines found", path=p_path,
                                hint="expected OR-Library's pmedopt.txt")
    return out

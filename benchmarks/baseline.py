"""Run a model of another geoplan release in a child process, for side-by-side timings.

Why: a change to the solver layer or a model must keep the optima and should keep (or
improve) the speed of the release before it. ``checkout(rev)`` puts that release in a
temporary git worktree; ``run(...)`` solves one instance with it in a fresh interpreter
(its own imports, no shared state) and returns the same figures the benchmark prints
for the current code.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

ROOT = Path(__file__).resolve().parent.parent

_RUNNER = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[1])
import numpy as np, scipy.sparse as sp
from geoplan.optimize import covering, median
d = np.load(sys.argv[2], allow_pickle=False)
kw = json.loads(sys.argv[3])
fn = sys.argv[4]
M = sp.csr_matrix((d["data"], d["indices"], d["indptr"]), shape=tuple(d["shape"]))
w = d["w"] if "w" in d.files else None
t = time.perf_counter()
if fn == "max_covering":
    plan = covering.max_covering(M, w, **kw)
elif fn == "set_covering":
    plan = covering.set_covering(M, None, **kw)
else:
    plan = median.p_median(M, w, **kw)
out = {"total": time.perf_counter() - t, "build": plan.build_s, "solve": plan.solve_s,
       "objective": plan.objective, "status": plan.status, "gap": plan.gap}
print("\n" + json.dumps(out))
"""


@contextlib.contextmanager
def checkout(rev: str) -> Iterator[Path]:
    """A temporary git worktree of ``rev`` (removed afterwards).

    Parameters
    ----------
    rev
        A commit, tag or branch of this repository.

    Yields
    ------
    pathlib.Path
        The worktree folder (holds the ``geoplan`` package of that release).
    """
    tmp = Path(tempfile.mkdtemp(prefix="geoplan-release-"))
    path = tmp / "geoplan"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), rev],
                   check=True, capture_output=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
                       capture_output=True)


def run(release: Path, func: str, matrix: sparse.spmatrix, weights: Any,
        timeout_s: float, **kwargs: Any) -> dict[str, Any]:
    """Solve one instance with the release in ``release`` (a child interpreter).

    Parameters
    ----------
    release
        Folder from :func:`checkout`.
    func
        ``"max_covering"``, ``"set_covering"`` or ``"p_median"``.
    matrix, weights
        The coverage (or time) matrix and the weights (None for set covering).
    timeout_s
        Wall limit of the child.
    **kwargs
        Keyword arguments of the model (JSON-serialisable).

    Returns
    -------
    dict
        ``total``, ``build``, ``solve``, ``objective``, ``status``, ``gap`` (``status``
        says "not finished" when the child ran out of time).
    """
    M = sparse.csr_matrix(matrix)
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "instance.npz"
        arrays = {"data": M.data, "indices": M.indices, "indptr": M.indptr,
                  "shape": np.array(M.shape)}
        if weights is not None:
            arrays["w"] = np.asarray(weights, float)
        np.savez(npz, **arrays)
        try:
            out = subprocess.run([sys.executable, "-c", _RUNNER, str(release), str(npz),
                                  json.dumps(kwargs), func], capture_output=True, text=True,
                                 timeout=timeout_s)
        except subprocess.TimeoutExpired:
            nan = float("nan")
            return {"total": timeout_s, "build": nan, "solve": nan, "objective": nan,
                    "status": f"not finished in {timeout_s:.0f} s", "gap": nan}
    if out.returncode != 0:
        raise RuntimeError(f"the release run failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])

"""Random location-model instances, exact oracles and the honesty checks of every answer.

Why: an optimisation tool loses its users the first time it calls a plan "optimal"
that is not. geoplan's models stack heuristics, LP bounds, fixing and time-limited MILPs;
each step can mis-report what it proved - most easily under a tight time limit on a
loaded machine. This module is shared by ``tests/test_opt_stress.py`` (hypothesis, fixed
seeds, a minute) and ``benchmarks/bench_soak.py`` (random seeds, minutes): one place for

- the instance generators (``gen_case(model, seed, size)``, reproducible from the seed),
- the exact oracles, computed **without** geoplan: brute-force enumeration for small
  instances and an unreduced MILP of our own (``scipy.optimize.milp``, i.e. HiGHS, no
  time limit, ``mip_rel_gap = 0``) for bigger ones; the two are compared by
  :func:`cross_check`,
- the rules every answer must keep (:func:`check`): an "optimal" objective equals the
  optimum; a "time_limit" objective is on the feasible side of the optimum and equals
  the value of the plan's own decisions; the bound is on the valid side of the optimum;
  the gap matches objective and bound; "infeasible" only when the oracle says so;
  "not_solved" only under a time limit; the call returns within ``1.05 T + 1`` seconds,
- :func:`busy_load`, the busy worker processes that load the machine while solving.

Only ``geoplan.optimize``'s public models are called; nothing of geoplan's reduction,
heuristics or solver layer is used by an oracle.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import multiprocessing
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

import geoplan.optimize as gopt
from geoplan.optimize.balanced_median import balanced_p_median

__all__ = [
    "GAPS", "KINDS", "MODELS", "SIZES", "SOLVERS", "TIME_LIMITS", "Case", "OracleError",
    "Outcome", "Violation", "allowed_seconds", "busy_load", "check", "cross_check",
    "gen_case", "issue_case", "run_and_check",
]

#: Solvers every model is run with.
SOLVERS = ("cbc", "highs")
#: Time limits in seconds (None: no limit), from a few milliseconds up.
TIME_LIMITS = (0.002, 0.01, 0.05, 0.2, 0.5, 1.0, None)
#: Relative gap options (None: prove optimality).
GAPS = (None, None, 0.01, 0.05, 0.2)
#: Models under test (``tradeoff`` is :func:`geoplan.optimize.tradeoff_curve`,
#: ``balanced_p_median`` :func:`geoplan.optimize.balanced_median.balanced_p_median`, not
#: exported from :mod:`geoplan.optimize`).
MODELS = ("max_covering", "set_covering", "p_median", "p_center", "tradeoff", "beds",
          "function_centres", "capacitated_max_covering", "balanced_covering", "tiered",
          "balanced_p_median")
#: Instance sizes: ``small`` (brute-force oracle), ``mid`` and ``large`` (MILP oracle;
#: large ones make the MILPs branch) and ``issue`` (maximal covering only: the
#: 4,000 x 150, radius 0.2, p = 6 class of the bug report; see :func:`issue_case`).
SIZES = ("small", "mid", "large")
#: Kinds of violation, in the order they are reported.
KINDS = ("false_optimal", "wrong_objective", "invalid_bound", "bad_gap", "bad_status",
         "overrun", "error")

_FEASIBLE = ("optimal", "time_limit")


class OracleError(RuntimeError):
    """The oracle could not prove an optimum (its own failure, not geoplan's)."""


# ----------------------------------------------------------------------------- load


def _spin() -> None:  # pragma: no cover - runs in the busy child processes
    x = 0.0
    while True:
        x = x * 0.5 + 1.0


@contextlib.contextmanager
def busy_load(workers: int = 2) -> Iterator[list[Any]]:
    """Keep ``workers`` processes spinning in a tight loop for the duration of the block.

    Why: time limits are missed and half-finished LPs are trusted most easily when the
    solver does not get the CPU it expects; the load is part of the test.

    Parameters
    ----------
    workers
        Number of busy processes (0: no load).

    Yields
    ------
    list
        The worker processes (terminated, and killed if need be, on exit).
    """
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    procs = [ctx.Process(target=_spin, name=f"geoplan-busy-{i}", daemon=True)
             for i in range(workers)]
    for proc in procs:
        proc.start()
    try:
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Outcome:
    """One answer to check: what geoplan reported and what its decisions are worth.

    Attributes
    ----------
    status, objective, bound, gap
        As reported in the plan.
    value
        The objective of the plan's own decisions, recomputed here (NaN without any).
    broken
        Why the plan's decisions break the model's constraints, or None.
    point
        Which answer of a multi-answer call (``"p=3"`` on a trade-off curve), or ``""``.
    """

    status: str
    objective: float
    bound: float
    gap: float
    value: float
    broken: str | None
    point: str = ""


@dataclass(frozen=True)
class Violation:
    """A broken rule: its kind (one of :data:`KINDS`) and a reproducible message."""

    kind: str
    message: str


def _outcome(plan: Any, value: float, broken: str | None, point: str = "") -> Outcome:
    return Outcome(status=str(plan.status), objective=float(plan.objective),
                   bound=float(plan.bound), gap=float(plan.gap), value=float(value),
                   broken=broken, point=point)


def _ids_ok(sel: NDArray[np.intp], m: int, existing: NDArray[np.intp]) -> str | None:
    """Reason why ``sel`` is not a set of new column indices, or None."""
    if sel.size and (sel.min() < 0 or sel.max() >= m):
        return f"selected holds indices outside 0..{m - 1}: {sel.tolist()}"
    if np.unique(sel).size != sel.size:
        return f"selected repeats a column: {sel.tolist()}"
    if np.intersect1d(sel, existing).size:
        return f"selected lists existing columns {np.intersect1d(sel, existing).tolist()}"
    return None


# ----------------------------------------------------------------------------- MILP oracle


def _milp(c: NDArray[np.float64], integrality: NDArray[np.float64],
          lo: NDArray[np.float64], hi: NDArray[np.float64],
          rows: list[tuple[Any, Any, Any]], time_limit: float | None) -> NDArray | None:
    """Solve ``min c x`` with ``scipy.optimize.milp`` to a proof (gap 0).

    Returns the solution, or None when the model is infeasible; raises
    :class:`OracleError` on anything else (time limit, numerical trouble).
    """
    if c.size == 0:                                   # nothing to decide
        ok = all(np.all(np.asarray(lb) <= 0) and np.all(np.asarray(ub) >= 0)
                 for _, lb, ub in rows)
        return np.zeros(0) if ok else None
    cons = [LinearConstraint(sparse.csr_matrix(A), lb, ub) for A, lb, ub in rows]
    opts: dict[str, Any] = {"mip_rel_gap": 0.0, "disp": False, "presolve": True}
    if time_limit is not None:
        opts["time_limit"] = float(time_limit)
    res = milp(c, integrality=integrality, bounds=Bounds(lo, hi), constraints=cons,
               options=opts)
    if res.status == 2:
        return None
    if res.status != 0 or res.x is None:
        raise OracleError(f"oracle MILP did not prove an optimum: {res.status} {res.message}")
    return np.asarray(res.x)


def _agree(value: float, claimed: float, what: str) -> float:
    """Return the exact value of the oracle's own solution, checked against the MILP's."""
    if not (abs(value - claimed) <= 1e-5 * max(1.0, abs(value))):
        raise OracleError(f"{what}: MILP objective {claimed!r} but its solution is worth "
                          f"{value!r}")
    return value


def _subsets(k: int) -> NDArray[np.bool_]:
    """All ``2**k`` subsets of ``k`` items as a boolean matrix (one row per subset)."""
    return ((np.arange(2 ** k)[:, None] >> np.arange(k)) & 1).astype(bool)


def _pick(rng: np.random.Generator, size: str, **ranges: tuple[float, float]) -> list[Any]:
    """One draw per keyword from its ``(small, mid, large)`` ranges (ints stay ints)."""
    out: list[Any] = []
    k = ("small", "mid", "large").index(size)
    for lo_hi in ranges.values():
        lo, hi = lo_hi[2 * k], lo_hi[2 * k + 1]
        out.append(int(rng.integers(lo, hi + 1)) if isinstance(lo, int) and isinstance(hi, int)
                   else float(rng.uniform(lo, hi)))
    return out


def _random_points(rng: np.random.Generator, n: int, m: int,
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return rng.random((n, 2)), rng.random((m, 2))


def _dist(D: NDArray[np.float64], S: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.sqrt(((D[:, None, :] - S[None, :, :]) ** 2).sum(-1))


def _weights(rng: np.random.Generator, n: int, kind: str, *, zeros: bool) -> NDArray:
    """Integral (0/1-99), two-decimal fractional or positive weights."""
    low = 0 if zeros else 1
    if kind == "integral":
        return rng.integers(low, 100, n).astype(float)
    return np.round(rng.random(n) * 50 + (0.0 if zeros else 0.01), 2)


# ----------------------------------------------------------------------------- coverage


@dataclass
class _Cover:
    """A demand x site coverage instance with existing (fixed open) columns."""

    C: sparse.csr_matrix
    w: NDArray[np.float64]
    existing: NDArray[np.intp]
    costs: NDArray[np.float64] | None

    @property
    def m(self) -> int:
        return int(self.C.shape[1])

    @property
    def cand(self) -> NDArray[np.intp]:
        return np.setdiff1d(np.arange(self.m), self.existing).astype(np.intp)

    def covered(self, cols: NDArray[np.intp]) -> NDArray[np.bool_]:
        allc = np.union1d(self.existing, cols).astype(np.intp)
        if allc.size == 0:
            return np.zeros(self.C.shape[0], bool)
        return np.asarray(self.C[:, allc].sum(axis=1)).ravel() > 0

    def all_covered(self, masks: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Covered rows for each candidate subset (rows of ``masks`` over ``cand``)."""
        fixed = self.covered(np.array([], np.intp))
        cov = self.C[:, self.cand].toarray().astype(np.int32)
        return fixed[None, :] | ((masks.astype(np.int32) @ cov.T) > 0)


def _gen_cover(rng: np.random.Generator, size: str, *, zeros: bool,
               positive_costs: bool = True, reach_all: float = 0.0) -> tuple[_Cover, str]:
    """Random points in the unit square; sites cover demand within a radius.

    With probability ``reach_all`` every row is also covered by its nearest site.
    """
    n, m, per_row = _pick(rng, size, n=(4, 40, 150, 400, 500, 1200),
                          m=(2, 12, 20, 45, 40, 90), per_row=(0.8, 5.0, 0.8, 5.0, 4.0, 12.0))
    D, S = _random_points(rng, n, m)
    d = _dist(D, S)
    geo = size != "large" or rng.random() < 0.5
    if geo:                            # sites reach the demand within a radius
        cov = d <= math.sqrt(per_row / (m * math.pi))
    else:                              # random sets: weak LP bounds, the MILP branches
        n, m, per_row = n // 5, m // 2, min(per_row, 5.0)
        D, d = D[:n], d[:n, :m]
        cov = rng.random((n, m)) < per_row / m
    if rng.random() < reach_all:
        cov[np.arange(n), np.argmin(d, axis=1)] = True
    C = sparse.csr_matrix(cov)
    kind = str(rng.choice(["integral", "fractional"]))
    w = _weights(rng, n, kind, zeros=zeros)
    n_ex = int(rng.integers(0, min(3, m - 1) + 1)) if rng.random() < 0.4 else 0
    ex = np.sort(rng.choice(m, n_ex, replace=False)).astype(np.intp)
    costs = (rng.integers(1 if positive_costs else 0, 10, m).astype(float)
             if rng.random() < 0.5 else None)
    shape = (f"n={n} m={m} {'radius' if geo else 'random sets'} per_row={per_row:.2f} "
             f"weights={kind} existing={ex.tolist()}")
    return _Cover(C, w, ex, costs), shape


# ----------------------------------------------------------------------------- max covering


@dataclass
class MaxCovering:
    """:func:`geoplan.optimize.max_covering` on a :class:`_Cover` instance."""

    cover: _Cover
    p: int | None
    budget: float | None
    model = "max_covering"
    sense = "max"
    accepts_gap = True

    def _broken(self, sel: NDArray[np.intp], p: int | None) -> str | None:
        why = _ids_ok(sel, self.cover.m, self.cover.existing)
        if why:
            return why
        if p is not None and sel.size > p:
            return f"{sel.size} new sites for p = {p}"
        if self.budget is not None:
            assert self.cover.costs is not None
            spent = float(self.cover.costs[sel].sum())
            if spent > self.budget + 1e-9:
                return f"cost {spent:g} over the budget {self.budget:g}"
        return None

    def value(self, sel: NDArray[np.intp]) -> float:
        """Weight covered by the existing and the selected columns."""
        return float(self.cover.w @ self.cover.covered(sel))

    def call(self, solver: str, time_limit: float | None, gap: float | None) -> Any:
        """Run the model."""
        c = self.cover
        return gopt.max_covering(c.C, c.w, p=self.p, budget=self.budget,
                                 costs=c.costs if self.budget is not None else None,
                                 existing=c.existing, solver=solver, time_limit=time_limit,
                                 gap=gap)

    def read(self, plan: Any) -> list[Outcome]:
        """Read the plan into an :class:`Outcome`."""
        sel = np.asarray(plan.selected, np.intp)
        return [_outcome(plan, self.value(sel), self._broken(sel, self.p))]

    def brute_p(self, p: int | None) -> float:
        """Best covered weight over every candidate subset (at most ``p``, in budget)."""
        c = self.cover
        masks = _subsets(c.cand.size)
        ok = np.ones(len(masks), bool)
        if p is not None:
            ok &= masks.sum(axis=1) <= p
        if self.budget is not None:
            assert c.costs is not None
            ok &= masks.astype(float) @ c.costs[c.cand] <= self.budget + 1e-9
        return float((c.all_covered(masks[ok]) @ c.w).max())

    def milp_p(self, p: int | None, time_limit: float | None) -> float:
        """Unreduced MILP: x per column (existing fixed to 1), y per row."""
        c = self.cover
        n, m = c.C.shape
        cost = np.r_[np.zeros(m), -c.w]
        lo = np.zeros(m + n)
        lo[c.existing] = 1.0
        link = sparse.hstack([-c.C.astype(float), sparse.eye(n)])
        rows: list[tuple[Any, Any, Any]] = [(link, -np.inf, np.zeros(n))]
        is_c = np.zeros(m + n)
        is_c[c.cand] = 1.0
        if p is not None:
            rows.append((is_c[None, :], -np.inf, float(p)))
        if self.budget is not None:
            assert c.costs is not None
            rows.append(((is_c * np.r_[c.costs, np.zeros(n)])[None, :], -np.inf,
                         self.budget))
        x = _milp(cost, np.r_[np.ones(m), np.zeros(n)], lo, np.ones(m + n), rows, time_limit)
        assert x is not None                      # choosing nothing is always feasible
        sel = np.intersect1d(np.flatnonzero(x[:m] > 0.5), c.cand).astype(np.intp)
        if self._broken(sel, p):
            raise OracleError(f"oracle plan infeasible: {self._broken(sel, p)}")
        return _agree(self.value(sel), -float(cost @ x), "max covering")

    def brute(self) -> list[float | None]:
        """Optimum by enumeration."""
        return [self.brute_p(self.p)]

    def milp(self, time_limit: float | None = None) -> list[float | None]:
        """Optimum by the MILP."""
        return [self.milp_p(self.p, time_limit)]


def _gen_max_covering(rng: np.random.Generator, size: str) -> tuple[MaxCovering, str]:
    cover, shape = _gen_cover(rng, size, zeros=True)
    k = int(cover.cand.size)
    mode = str(rng.choice(["p", "budget", "both"])) if cover.costs is not None else "p"
    top = min(k, 8 if size != "large" else 10)
    p = int(rng.integers(0 if size != "large" else 2, top + 1)) if mode in ("p", "both") else None
    budget = None
    if mode in ("budget", "both"):
        assert cover.costs is not None
        budget = float(rng.integers(0, int(cover.costs[cover.cand].sum()) + 2))
    return MaxCovering(cover, p, budget), f"{shape} p={p} budget={budget}"


@dataclass
class Tradeoff(MaxCovering):
    """:func:`geoplan.optimize.tradeoff_curve`: one max covering optimum per p."""

    p_max: int = 1
    model = "tradeoff"

    def call(self, solver: str, time_limit: float | None, gap: float | None) -> Any:
        """Run the curve."""
        c = self.cover
        return gopt.tradeoff_curve(c.C, c.w, self.p_max, existing=c.existing, solver=solver,
                                   time_limit=time_limit, gap=gap)

    def read(self, result: Any) -> list[Outcome]:
        """One outcome per point of the curve."""
        _, plans = result
        out = []
        for p, plan in enumerate(plans):
            sel = np.asarray(plan.selected, np.intp)
            out.append(_outcome(plan, self.value(sel), self._broken(sel, p), f"p={p}"))
        if len(plans) != self.p_max + 1:
            out.append(Outcome("wrong number of points", math.nan, math.nan, math.nan,
                               math.nan, f"{len(plans)} plans for p = 0..{self.p_max}"))
        return out

    def brute(self) -> list[float | None]:
        """Optimum of every point by enumeration."""
        return [self.brute_p(p) for p in range(self.p_max + 1)]

    def milp(self, time_limit: float | None = None) -> list[float | None]:
        """Optimum of every point by the MILP."""
        return [self.milp_p(p, time_limit) for p in range(self.p_max + 1)]


def _gen_tradeoff(rng: np.random.Generator, size: str) -> tuple[Tradeoff, str]:
    cover, shape = _gen_cover(rng, size, zeros=True)
    p_max = int(rng.integers(1, max(1, min(int(cover.cand.size), 4)) + 1))
    return Tradeoff(cover, None, None, p_max=p_max), f"{shape} p_max={p_max}"


# ----------------------------------------------------------------------------- set covering


@dataclass
class SetCovering:
    """:func:`geoplan.optimize.set_covering` with share and unit targets."""

    cover: _Cover
    target_share: float
    unit: NDArray[np.int64] | None
    unit_min_share: float | None
    model = "set_covering"
    sense = "min"
    accepts_gap = True

    @property
    def _tol(self) -> float:
        return 1e-9 * max(1.0, float(self.cover.w.sum()))

    def _short(self, covered: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Per subset (rows of ``covered``): whether a target is missed."""
        w = self.cover.w
        bad = covered.astype(float) @ w < self.target_share * float(w.sum()) - self._tol
        if self.unit_min_share is not None:
            assert self.unit is not None
            for u in np.unique(self.unit):
                inu = self.unit == u
                need = self.unit_min_share * float(w[inu].sum())
                bad |= covered[:, inu].astype(float) @ w[inu] < need - self._tol
        return bad

    def cost(self, sel: NDArray[np.intp]) -> float:
        """Count, or cost, the new sites."""
        c = self.cover.costs
        return float(sel.size) if c is None else float(c[sel].sum())

    def _broken(self, sel: NDArray[np.intp]) -> str | None:
        why = _ids_ok(sel, self.cover.m, self.cover.existing)
        if why:
            return why
        if self._short(self.cover.covered(sel)[None, :])[0]:
            share = float(self.cover.w @ self.cover.covered(sel)) / float(self.cover.w.sum())
            return f"the plan's sites miss a coverage target (share {share:.6f})"
        return None

    def call(self, solver: str, time_limit: float | None, gap: float | None) -> Any:
        """Run the model."""
        c = self.cover
        return gopt.set_covering(c.C, c.w, existing=c.existing, costs=c.costs,
                                 target_share=self.target_share, unit=self.unit,
                                 unit_min_share=self.unit_min_share, solver=solver,
                                 time_limit=time_limit, gap=gap)

    def read(self, plan: Any) -> list[Outcome]:
        """Read the plan into an :class:`Outcome`."""
        sel = np.asarray(plan.selected, np.intp)
        return [_outcome(plan, self.cost(sel), self._broken(sel))]

    def brute(self) -> list[float | None]:
        """Cheapest subset meeting the targets, by enumeration (None: infeasible)."""
        c = self.cover
        masks = _subsets(c.cand.size)
        ok = ~self._short(c.all_covered(masks))
        if not ok.any():
            return [None]
        costs = np.ones(c.m) if c.costs is None else c.costs
        return [float((masks[ok].astype(float) @ costs[c.cand]).min())]

    def milp(self, time_limit: float | None = None) -> list[float | None]:
        """Unreduced MILP: binary x per column (existing fixed open), binary y per row."""
        c = self.cover
        n, m = c.C.shape
        costs = np.ones(m) if c.costs is None else c.costs.copy()
        costs[c.existing] = 0.0
        lo = np.zeros(m + n)
        lo[c.existing] = 1.0
        rows: list[tuple[Any, Any, Any]] = [
            (sparse.hstack([-c.C.astype(float), sparse.eye(n)]), -np.inf, np.zeros(n)),
            (np.r_[np.zeros(m), c.w][None, :],
             self.target_share * float(c.w.sum()) - self._tol, np.inf)]
        if self.unit_min_share is not None:
            assert self.unit is not None
            for u in np.unique(self.unit):
                inu = (self.unit == u).astype(float)
                rows.append((np.r_[np.zeros(m), c.w * inu][None, :],
                             self.unit_min_share * float(c.w @ inu) - self._tol, np.inf))
        x = _milp(np.r_[costs, np.zeros(n)], np.ones(m + n), lo, np.ones(m + n), rows,
                  time_limit)
        if x is None:
            return [None]
        sel = np.intersect1d(np.flatnonzero(x[:m] > 0.5), c.cand).astype(np.intp)
        if self._broken(sel):
            raise OracleError(f"oracle plan infeasible: {self._broken(sel)}")
        return [_agree(self.cost(sel), float(costs @ x[:m]), "set covering")]


def _gen_set_covering(rng: np.random.Generator, size: str) -> tuple[SetCovering, str]:
    cover, shape = _gen_cover(rng, size, zeros=False, positive_costs=False, reach_all=0.7)
    target = float(rng.choice([1.0, 1.0, 0.5, 0.7, 0.8, 0.9, 0.95]))
    unit = ums = None
    if rng.random() < 0.4:
        unit = rng.integers(0, int(rng.integers(2, 5)), cover.C.shape[0])
        ums = float(rng.choice([0.3, 0.5, 0.8, 1.0]))
    return (SetCovering(cover, target, unit, ums),
            f"{shape} costs={'yes' if cover.costs is not None else 'no'} "
            f"target_share={target} unit_min_share={ums}")


# ----------------------------------------------------------------------------- travel times


def _gen_times(rng: np.random.Generator, n: int, m: int, *, reach_all: bool,
               per_row: tuple[float, float] = (1.5, 6.0)) -> NDArray[np.float64]:
    """Minutes (one decimal, ties likely) within a cut-off; ``inf`` = not stored."""
    D, S = _random_points(rng, n, m)
    d = _dist(D, S)
    t = np.round(d * 60.0 + rng.random((n, m)) * 3.0 + 0.1, 1)
    per_row = float(rng.uniform(*per_row))
    cut = math.sqrt(per_row / (m * math.pi))
    keep = d <= cut
    if reach_all:
        keep[np.arange(n), np.argmin(d, axis=1)] = True
    return np.where(keep, t, np.inf)


def _as_input(rng: np.random.Generator, t: NDArray[np.float64]) -> Any:
    """Pass the times as a sparse matrix of stored pairs or a dense array with inf."""
    if rng.random() < 0.5:
        return t
    r, c = np.nonzero(np.isfinite(t))
    return sparse.csr_matrix((t[r, c], (r, c)), shape=t.shape)


def _near(t: NDArray[np.float64], cols: NDArray[np.intp]) -> NDArray[np.float64]:
    """Time to the nearest of ``cols`` per row (inf when none)."""
    if cols.size == 0:
        return np.full(t.shape[0], np.inf)
    return t[:, cols].min(axis=1)


def _combos(k: int, p: int) -> NDArray[np.intp]:
    if p == 0:
        return np.zeros((1, 0), np.intp)
    return np.array(list(itertools.combinations(range(k), p)), np.intp)


# ----------------------------------------------------------------------------- p-median


@dataclass
class PMedian:
    """:func:`geoplan.optimize.p_median` with existing sites and ``unassigned_time``."""

    t: NDArray[np.float64]
    times: Any
    w: NDArray[np.float64]
    existing: NDArray[np.intp]
    p: int
    unassigned: float | None
    model = "p_median"
    sense = "min"
    accepts_gap = True

    @property
    def cand(self) -> NDArray[np.intp]:
        return np.setdiff1d(np.arange(self.t.shape[1]), self.existing).astype(np.intp)

    def _row_cost(self, near: NDArray[np.float64]) -> NDArray[np.float64]:
        u = math.inf if self.unassigned is None else self.unassigned
        return np.where(np.isfinite(near), near, u)

    def value(self, sel: NDArray[np.intp]) -> float:
        """Weighted time to the nearest open site (``unassigned_time`` for none)."""
        pos = self.w > 0
        cost = self._row_cost(_near(self.t, np.union1d(self.existing, sel).astype(np.intp)))
        return float(self.w[pos] @ cost[pos])

    def _broken(self, sel: NDArray[np.intp]) -> str | None:
        why = _ids_ok(sel, self.t.shape[1], self.existing)
        if why:
            return why
        if sel.size != self.p:
            return f"{sel.size} new sites for p = {self.p}"
        if not math.isfinite(self.value(sel)):
            return "a demand row reaches no open site"
        return None

    def call(self, solver: str, time_limit: float | None, gap: float | None) -> Any:
        """Run the model."""
        return gopt.p_median(self.times, self.w, self.p, existing=self.existing,
                             unassigned_time=self.unassigned, solver=solver,
                             time_limit=time_limit, gap=gap)

    def read(self, plan: Any) -> list[Outcome]:
        """Read the plan into an :class:`Outcome`."""
        sel = np.asarray(plan.selected, np.intp)
        return [_outcome(plan, self.value(sel), self._broken(sel))]

    def brute(self) -> list[float | None]:
        """Every set of exactly p candidates, vectorised in chunks (None: infeasible)."""
        cand, pos = self.cand, self.w > 0
        base = _near(self.t, self.existing)[pos]
        tc = self.t[pos][:, cand]
        best = math.inf
        combos = _combos(cand.size, self.p)
        step = max(1, 2_000_000 // max(1, int(pos.sum()) * max(self.p, 1)))
        for a in range(0, len(combos), step):
            cc = combos[a:a + step]
            near = base[None, :] if self.p == 0 else np.minimum(
                base[None, :], tc[:, cc].min(axis=2).T)
            best = min(best, float((self._row_cost(near) @ self.w[pos]).min()))
        return [best if math.isfinite(best) else None]

    def milp(self, time_limit: float | None = None) -> list[float | None]:
        """Classic assignment MILP (ReVelle & Swain) on the stored pairs."""
        pos = np.flatnonzero(self.w > 0)
        r, c = np.nonzero(np.isfinite(self.t[pos]))
        m, npairs, nrow = self.t.shape[1], r.size, pos.size
        u = self.unassigned
        nz = nrow if u is not None else 0
        cost = np.r_[np.zeros(m), self.w[pos][r] * self.t[pos][r, c],
                     (self.w[pos] * u) if u is not None else np.zeros(0)]
        nv = m + npairs + nz
        lo, hi = np.zeros(nv), np.ones(nv)
        lo[self.existing] = 1.0
        pairs = np.arange(npairs)
        assign = sparse.csr_matrix((np.ones(npairs), (r, m + pairs)), shape=(nrow, nv))
        if nz:
            assign = assign + sparse.csr_matrix(
                (np.ones(nrow), (np.arange(nrow), m + npairs + np.arange(nrow))),
                shape=(nrow, nv))
        link = sparse.csr_matrix((np.r_[np.ones(npairs), -np.ones(npairs)],
                                  (np.r_[pairs, pairs], np.r_[m + pairs, c])),
                                 shape=(npairs, nv))
        count = np.zeros(nv)
        count[self.cand] = 1.0
        rows = [(assign, 1.0, 1.0), (link, -np.inf, 0.0), (count[None, :], self.p, self.p)]
        rows += self._site_rows(lo, hi, nv)
        integ = np.r_[np.ones(m), np.zeros(npairs + nz)]
        x = _milp(cost, integ, lo, hi, rows, time_limit)
        if x is None:
            return [None]
        sel = np.intersect1d(np.flatnonzero(x[:m] > 0.5), self.cand).astype(np.intp)
        if self._broken(sel):
            raise OracleError(f"oracle plan infeasible: {self._broken(sel)}")
        return [_agree(self.value(sel), float(cost @ x), "p-median")]

    def _site_rows(self, lo: NDArray[np.float64], hi: NDArray[np.float64],
                   nv: int) -> list[tuple[Any, Any, Any]]:
        """Rules on the site variables (``x[:m]``) of subclasses: bounds, extra rows."""
        return []


def _gen_p_median(rng: np.random.Generator, size: str) -> tuple[PMedian, str]:
    n, m = _pick(rng, size, n=(4, 30, 40, 120, 150, 400), m=(3, 16, 15, 35, 40, 90))
    u_mode = str(rng.choice(["none", "cutoff", "penalty"]))
    t = _gen_times(rng, n, m, reach_all=u_mode == "none")
    kind = str(rng.choice(["integral", "fractional"]))
    w = _weights(rng, n, kind, zeros=True)
    w[0] = max(w[0], 1.0)                       # some demand
    n_ex = int(rng.integers(0, min(3, m - 1) + 1)) if rng.random() < 0.4 else 0
    ex = np.sort(rng.choice(m, n_ex, replace=False)).astype(np.intp)
    k = m - n_ex
    top = float(np.max(t[np.isfinite(t)]))
    u = {"none": None, "cutoff": top, "penalty": round(top * 1.5, 1)}[u_mode]
    # small: at most 50,000 subsets for the brute force (more than 5,000 reach the MILP)
    ps = [p for p in range(0 if n_ex else 1, k + 1)
          if size != "small" or math.comb(k, p) <= 50_000]
    p = int(rng.choice(ps if size == "small" else ps[:9] if size == "mid" else ps[3:16]))
    return (PMedian(t, _as_input(rng, t), w, ex, p, u),
            f"n={n} m={m} weights={kind} existing={ex.tolist()} p={p} unassigned_time={u}")


# ----------------------------------------------------------------------------- p-center


@dataclass
class PCenter:
    """:func:`geoplan.optimize.p_center` with weights, standards and unreachable rows."""

    t: NDArray[np.float64]
    times: Any
    w: NDArray[np.float64]
    existing: NDArray[np.intp]
    p: int
    standards: NDArray[np.float64] | None
    allow_unreachable: bool
    model = "p_center"
    sense = "min"
    accepts_gap = False

    @property
    def cand(self) -> NDArray[np.intp]:
        return np.setdiff1d(np.arange(self.t.shape[1]), self.existing).astype(np.intp)

    @property
    def ratio(self) -> NDArray[np.float64]:
        s = np.ones(self.t.shape[0]) if self.standards is None else self.standards
        return self.t / s[:, None]

    @property
    def live(self) -> NDArray[np.bool_]:
        return (self.w > 0) & np.isfinite(self.t).any(axis=1)

    def value(self, sel: NDArray[np.intp]) -> float:
        """Worst time (or time / standard) to the nearest open site over live rows."""
        if not self.live.any():
            return 0.0
        near = _near(self.ratio, np.union1d(self.existing, sel).astype(np.intp))
        return float(near[self.live].max())

    def _broken(self, sel: NDArray[np.intp]) -> str | None:
        why = _ids_ok(sel, self.t.shape[1], self.existing)
        if why:
            return why
        if sel.size > self.p:
            return f"{sel.size} new sites for p = {self.p}"
        if not math.isfinite(self.value(sel)):
            return "a demand row reaches no open site"
        return None

    def call(self, solver: str, time_limit: float | None, gap: float | None) -> Any:
        """Run the model (p-center takes no gap)."""
        return gopt.p_center(self.times, self.p, weights=self.w, existing=self.existing,
                             standards=self.standards,
                             allow_unreachable=self.allow_unreachable, solver=solver,
                             time_limit=time_limit)

    def read(self, plan: Any) -> list[Outcome]:
        """Read the plan into an :class:`Outcome`."""
        sel = np.asarray(plan.selected, np.intp)
        return [_outcome(plan, self.value(sel), self._broken(sel))]

    def brute(self) -> list[float | None]:
        """Every set of min(p, candidates) sites (more sites never hurt)."""
        if not self.live.any():
            return [0.0]
        cand = self.cand
        r = self.ratio[self.live]
        base = _near(r, self.existing)
        q = min(self.p, cand.size)
        combos = _combos(cand.size, q)
        near = base[None, :] if q == 0 else np.minimum(base[None, :],
                                                       r[:, cand][:, combos].min(axis=2).T)
        best = float(near.max(axis=1).min())
        return [best if math.isfinite(best) else None]

    def milp(self, time_limit: float | None = None) -> list[float | None]:
        """Smallest radius r for which a set-cover MILP opens at most p candidates.

        The optimum is one of the distinct values of ``t_ij / s_i``; feasibility ("can p
        candidates bring every live row within r?") is monotone in r, so a binary search
        over the sorted values needs about log2(values) covering MILPs.
        """
        if not self.live.any():
            return [0.0]
        ratio = self.ratio[self.live]
        vals = np.unique(ratio[np.isfinite(ratio)])
        floor = float(np.min(ratio, axis=1).max())
        lo, hi = int(np.searchsorted(vals, floor)), vals.size - 1
        best = self._cover_within(ratio, float(vals[hi]), time_limit)
        if best is None:
            return [None]
        while lo < hi:
            mid = (lo + hi) // 2
            sel = self._cover_within(ratio, float(vals[mid]), time_limit)
            if sel is None:
                lo = mid + 1
            else:
                best, hi = sel, mid
        if self._broken(best):
            raise OracleError(f"oracle plan infeasible: {self._broken(best)}")
        return [_agree(self.value(best), float(vals[hi]), "p-center")]

    def _cover_within(self, ratio: NDArray[np.float64], r: float,
                      time_limit: float | None) -> NDArray[np.intp] | None:
        """Fewest candidates covering every live row within ``r``, if at most p."""
        near_ex = _near(ratio, self.existing)
        need = near_ex > r * (1 + 1e-12)
        A = (ratio[need][:, self.cand] <= r * (1 + 1e-12)).astype(float)
        if need.any() and (A.sum(axis=1) == 0).any():
            return None
        if not need.any():
            return np.zeros(0, np.intp)
        k = self.cand.size
        x = _milp(np.ones(k), np.ones(k), np.zeros(k), np.ones(k), [(A, 1.0, np.inf)],
                  time_limit)
        if x is None or np.round(x).sum() > self.p:
            return None
        return self.cand[np.flatnonzero(x > 0.5)]


def _gen_p_center(rng: np.random.Generator, size: str) -> tuple[PCenter, str]:
    n, m = _pick(rng, size, n=(3, 30, 40, 100, 200, 500), m=(2, 12, 12, 25, 30, 70))
    allow = bool(rng.random() < 0.3)
    t = _gen_times(rng, n, m, reach_all=not allow,
                   per_row=(3.0, 10.0) if size != "large" else (6.0, 14.0))
    if allow:
        t[rng.random(n) < 0.15] = np.inf        # rows no site reaches
    w = rng.integers(0, 20, n).astype(float)
    w[0] = max(w[0], 1.0)
    n_ex = int(rng.integers(0, min(3, m - 1) + 1)) if rng.random() < 0.4 else 0
    ex = np.sort(rng.choice(m, n_ex, replace=False)).astype(np.intp)
    std = rng.choice([12.0, 20.0], n) if rng.random() < 0.4 else None
    low = (0 if n_ex else 1) if size != "large" else m // 5
    p = int(rng.integers(low, min(m - n_ex, 6 if size != "large" else m // 2) + 1))
    return (PCenter(t, _as_input(rng, t), w, ex, p, std, allow),
            f"n={n} m={m} existing={ex.tolist()} p={p} standards="
            f"{'12/20' if std is not None else None} allow_unreachable={allow}")


# ----------------------------------------------------------------------------- beds


@dataclass
class Beds:
    """:func:`geoplan.optimize.beds_to_ratio`, optionally with the reachable variant."""

    pop: pd.Series
    H: pd.DataFrame
    S: pd.DataFrame
    ratio: float
    coverage: sparse.csr_matrix | None
    demand: NDArray[np.float64] | None
    reach_share: float
    model = "beds"
    sense = "min"
    accepts_gap = True

    @property
    def need(self) -> pd.Series:
        return self.ratio * self.pop / 1000.0

    @property
    def before(self) -> pd.Series:
        return self.H.groupby("unit")["beds"].sum().reindex(self.pop.index).fillna(0.0)

    def required(self) -> pd.Series:
        """Whole beds each unit must add (the ratio target, beds are integers)."""
        gap = self.need - self.before
        return np.ceil(gap.where(gap > 1e-9, 0.0) - 1e-9).clip(lower=0)

    def cost(self, a: NDArray, b: NDArray, z: NDArray[np.bool_]) -> float:
        """Expansion, fixed and per-bed cost of a plan."""
        return float(self.H["cost_per_bed"].to_numpy() @ a + self.S["cost_per_bed"].to_numpy()
                     @ b + self.S["fixed_cost"].to_numpy() @ z)

    def _broken(self, a: NDArray, b: NDArray, z: NDArray[np.bool_]) -> str | None:
        if np.any(a < 0) or np.any(a > self.H["max_add"].to_numpy() + 1e-9):
            return f"beds added outside 0..max_add: {a.tolist()}"
        lo, hi = self.S["min_beds"].to_numpy(), self.S["max_beds"].to_numpy()
        if np.any(b[~z] != 0) or np.any((b < lo - 1e-9)[z]) or np.any((b > hi + 1e-9)[z]):
            return f"new-site beds {b.tolist()} break the size limits (open {z.tolist()})"
        after = self.before + pd.Series(np.r_[a, b]).groupby(
            np.r_[self.H["unit"], self.S["unit"]]).sum().reindex(self.pop.index).fillna(0.0)
        short = after < self.need - 1e-9
        if short.any():
            return f"units below the ratio: {list(short[short].index)}"
        if self.coverage is not None and not self._reachable(a, b):
            return "the added beds cannot serve the demand within reach"
        return None

    def _reachable(self, a: NDArray, b: NDArray) -> bool:
        """Solve the LP of whether every row can be served (its share) by beds within reach."""
        assert self.coverage is not None and self.demand is not None
        rows, cols = self.coverage.nonzero()
        k = self.coverage.shape[1]
        if rows.size == 0:
            return not np.any(self.demand * self.reach_share > 0)
        cap = (1000.0 / self.ratio) * np.r_[self.H["beds"].to_numpy() + a, b]
        serve = sparse.csr_matrix((-np.ones(rows.size), (rows, np.arange(rows.size))),
                                  shape=(self.coverage.shape[0], rows.size))
        load = sparse.csr_matrix((np.ones(rows.size), (cols, np.arange(rows.size))),
                                 shape=(k, rows.size))
        res = linprog(np.zeros(rows.size), A_ub=sparse.vstack([serve, load]).tocsr(),
                      b_ub=np.r_[-self.reach_share * self.demand, cap], bounds=(0, None),
                      method="highs")
        return bool(res.status == 0)

    def call(self, solver: str, time_limit: float | None, gap: float | None) -> Any:
        """Run the model."""
        return gopt.beds_to_ratio(self.pop, self.H, self.S, ratio=self.ratio,
                                  coverage=self.coverage, demand=self.demand,
                                  reach_share=self.reach_share, solver=solver,
                                  time_limit=time_limit, gap=gap)

    def read(self, plan: Any) -> list[Outcome]:
        """Read the plan's beds and opened sites, costed here."""
        added = plan.beds_added if plan.beds_added is not None else pd.Series(dtype=float)
        a = np.array([float(added.get(f"h{i}", 0.0)) for i in range(len(self.H))])
        b = np.array([float(added.get(f"s{i}", 0.0)) for i in range(len(self.S))])
        z = np.zeros(len(self.S), bool)
        z[np.asarray(plan.selected, np.intp)] = True
        return [_outcome(plan, self.cost(a, b, z), self._broken(a, b, z))]

    def brute(self) -> list[float | None]:
        """Enumerate per unit every set of new sites opened, then buy the cheapest beds.

        Without reach the units are independent; for a fixed set of open sites the
        cheapest way to add ``G`` whole beds is their minimum sizes, then the cheapest
        remaining beds one by one (a greedy that is exact for unit-size items).
        """
        if self.coverage is not None:
            return [self._brute_reach()]
        total = 0.0
        G = self.required()
        for unit in self.pop.index:
            best = self._unit_best(unit, float(G[unit]))
            if best is None:
                return [None]
            total += best
        return [total]

    def _unit_best(self, unit: Any, need: float) -> float | None:
        hs = self.H[self.H["unit"] == unit]
        ss = self.S[self.S["unit"] == unit]
        best = None
        for opened in itertools.product([False, True], repeat=len(ss)):
            o = ss.loc[np.array(opened, bool)]
            fixed = float((o["fixed_cost"] + o["cost_per_bed"] * o["min_beds"]).sum())
            left = need - float(o["min_beds"].sum())
            items = sorted(zip(list(hs["cost_per_bed"]) + list(o["cost_per_bed"]),
                               list(hs["max_add"]) + list(o["max_beds"] - o["min_beds"]),
                               strict=True))
            cost = fixed
            for price, cap in items:
                take = min(max(left, 0.0), cap)
                cost += price * take
                left -= take
            if left <= 1e-9 and (best is None or cost < best):
                best = cost
        return best

    def _brute_reach(self) -> float | None:
        """Every integer bed vector (tiny instances), cheapest first, checked by LP."""
        h_opts = [range(int(x) + 1) for x in self.H["max_add"]]
        s_opts = [[0, *range(max(int(lo), 1), int(hi) + 1)]
                  for lo, hi in zip(self.S["min_beds"], self.S["max_beds"], strict=True)]
        plans = []
        for ah in itertools.product(*h_opts):
            for bs in itertools.product(*s_opts):
                a, b = np.array(ah, float), np.array(bs, float)
                z = b > 0
                plans.append((self.cost(a, b, z), a, b, z))
        for cost, a, b, z in sorted(plans, key=lambda q: q[0]):
            if self._broken(a, b, z) is None:
                return cost
        return None

    def milp(self, time_limit: float | None = None) -> list[float | None]:
        """Solve the bed MILP of the module docstring, written out here (x = a, b, z[, q])."""
        nh, ns = len(self.H), len(self.S)
        nq = 0 if self.coverage is None else int(self.coverage.nnz)
        nv = nh + 2 * ns + nq
        H, S = self.H, self.S
        cost = np.r_[H["cost_per_bed"], S["cost_per_bed"], S["fixed_cost"], np.zeros(nq)]
        lo = np.zeros(nv)
        hi = np.r_[H["max_add"], S["max_beds"], np.ones(ns), np.full(nq, np.inf)]
        rows: list[tuple[Any, Any, Any]] = []
        for s in range(ns):                       # min z <= b <= max z
            e = np.zeros(nv)
            e[nh + s], e[nh + ns + s] = 1.0, -float(S["max_beds"].iloc[s])
            rows.append((e[None, :], -np.inf, 0.0))
            e = np.zeros(nv)
            e[nh + s], e[nh + ns + s] = 1.0, -float(S["min_beds"].iloc[s])
            rows.append((e[None, :], 0.0, np.inf))
        G = self.required()
        for unit in self.pop.index:
            e = np.zeros(nv)
            e[np.flatnonzero((H["unit"] == unit).to_numpy())] = 1.0
            e[nh + np.flatnonzero((S["unit"] == unit).to_numpy())] = 1.0
            rows.append((e[None, :], float(G[unit]), np.inf))
        if self.coverage is not None:
            rows += self._reach_rows(nv)
        integ = np.r_[np.ones(nh + 2 * ns), np.zeros(nq)]
        x = _milp(cost, integ, lo, hi, rows, time_limit)
        if x is None:
            return [None]
        a, b = np.round(x[:nh]), np.round(x[nh:nh + ns])
        z = np.round(x[nh + ns:nh + 2 * ns]) > 0.5
        if self._broken(a, b, z):
            raise OracleError(f"oracle plan infeasible: {self._broken(a, b, z)}")
        return [_agree(self.cost(a, b, z), float(cost @ x), "beds")]

    def _reach_rows(self, nv: int) -> list[tuple[Any, Any, Any]]:
        assert self.coverage is not None and self.demand is not None
        nh, ns = len(self.H), len(self.S)
        rows, cols = self.coverage.nonzero()
        q0 = nh + 2 * ns
        nq = rows.size
        serve = sparse.csr_matrix((np.ones(nq), (rows, q0 + np.arange(nq))),
                                  shape=(self.coverage.shape[0], nv))
        per_bed = 1000.0 / self.ratio
        k = nh + ns                    # column k's bed variable is x[k] (a, then b)
        load = sparse.csr_matrix(
            (np.r_[np.ones(nq), -per_bed * np.ones(k)],
             (np.r_[cols, np.arange(k)], np.r_[q0 + np.arange(nq), np.arange(k)])),
            shape=(k, nv))
        cap0 = per_bed * np.r_[self.H["beds"].to_numpy(), np.zeros(ns)]
        return [(serve, self.reach_share * self.demand, np.inf), (load, -np.inf, cap0)]


def _gen_beds(rng: np.random.Generator, size: str, *, tiny: bool = False,
              reach: bool | None = None) -> tuple[Beds, str]:
    reach = bool(rng.random() < 0.4) if reach is None else reach
    tiny = tiny or (reach and size == "small")      # the brute force enumerates bed vectors
    n_units = int(rng.integers(1, 3)) if tiny else _pick(rng, size,
                                                         u=(1, 4, 8, 30, 30, 100))[0]
    ratio = float(rng.choice([4.0, 5.0, 8.0, 10.0] if reach else [4.0, 5.0, 7.0, 10.0]))
    top = 500 if tiny else 12_000
    units = [f"u{k}" for k in range(n_units)]
    pop = pd.Series(rng.integers(0, top, n_units).astype(float), index=units)
    pop[rng.random(n_units) < 0.1] = 0.0                 # a unit without residents
    hs, ss = [], []
    for u in units:
        need = ratio * float(pop[u]) / 1000.0
        for _ in range(int(rng.choice([0, 1, 1, 2]) if tiny else rng.integers(0, 4))):
            hs.append({"unit": u, "beds": float(np.floor(need * rng.uniform(0.0, 0.8))),
                       "max_add": float(rng.integers(0, 4 if tiny else max(2, int(need)) + 1)),
                       "cost_per_bed": float(rng.integers(1, 6))})
        for _ in range(int(rng.integers(0, 2 if tiny else 4))):
            lo = float(rng.integers(0, 3 if tiny else 12))
            ss.append({"unit": u, "fixed_cost": float(rng.integers(0, 60)),
                       "cost_per_bed": float(rng.integers(1, 6)), "min_beds": lo,
                       "max_beds": lo + float(rng.integers(0, 4 if tiny else 60))})
    if rng.random() < 0.85:                              # mostly reachable targets
        hs += _room_for(rng, pop, ratio, hs, ss)
    H = pd.DataFrame(hs, columns=["unit", "beds", "max_add", "cost_per_bed"])
    S = pd.DataFrame(ss, columns=["unit", "fixed_cost", "cost_per_bed", "min_beds",
                                  "max_beds"])
    cov = demand = None
    share = 1.0
    if reach:
        cov, demand = _gen_reach(rng, pop, H, S)
        share = float(rng.choice([1.0, 0.75, 0.5]))
    return (Beds(pop, H, S, ratio, cov, demand, share),
            f"units={n_units} hospitals={len(H)} new_sites={len(S)} ratio={ratio} "
            f"reach={'no' if cov is None else f'{cov.shape[0]} rows, share {share}'}")


def _room_for(rng: np.random.Generator, pop: pd.Series, ratio: float,
              hs: list[dict[str, Any]], ss: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add a hospital to every unit whose expansions and new sites cannot meet the target."""
    extra = []
    for u in pop.index:
        most = sum(h["beds"] + h["max_add"] for h in hs if h["unit"] == u) + sum(
            x["max_beds"] for x in ss if x["unit"] == u)
        need = ratio * float(pop[u]) / 1000.0
        if most < need:
            extra.append({"unit": u, "beds": 0.0,
                          "max_add": float(math.ceil(need - most) + rng.integers(0, 3)),
                          "cost_per_bed": float(rng.integers(1, 6))})
    return extra


def _gen_reach(rng: np.random.Generator, pop: pd.Series, H: pd.DataFrame,
               S: pd.DataFrame) -> tuple[sparse.csr_matrix, NDArray[np.float64]]:
    """Demand rows per unit (splitting its population) and the hosts within reach."""
    unit_of = np.r_[H["unit"].to_numpy(), S["unit"].to_numpy()]
    k = unit_of.size
    blocks, demand = [], []
    for u in pop.index:
        parts = int(rng.integers(1, 4))
        cuts = np.sort(rng.integers(0, int(pop[u]) + 1, parts - 1))
        d = np.diff(np.r_[0, cuts, int(pop[u])]).astype(float)
        for di in d:
            row = np.where(unit_of == u, rng.random(k) < 0.7, rng.random(k) < 0.2)
            if k and not row.any():
                row[int(rng.integers(0, k))] = True
            blocks.append(row)
            demand.append(di if k else 0.0)
    C = sparse.csr_matrix(np.array(blocks, bool).reshape(len(blocks), k))
    return C, np.array(demand)


# ----------------------------------------------------------------------------- function centres


@dataclass
class FunctionCentres:
    """:func:`geoplan.optimize.function_centres` by brute force over placements."""

    Cs: list[sparse.csr_matrix]
    same_matrix: bool
    w: NDArray[np.float64]
    E: NDArray[np.bool_]
    total: int | None
    per_type: int | None
    mtph: int
    existing: list[tuple[int, int]]
    min_share: float | None
    v: NDArray[np.float64] | None
    model = "function_centres"
    sense = "max"
    accepts_gap = True

    @property
    def K(self) -> int:  # noqa: N802
        return int(self.E.shape[1])

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """Eligible (host, kind) pairs that do not exist yet."""
        have = set(self.existing)
        return [(int(h), int(k)) for h, k in zip(*np.nonzero(self.E), strict=True)
                if (int(h), int(k)) not in have]

    @property
    def vk(self) -> NDArray[np.float64]:
        return np.ones(self.K) if self.v is None else self.v

    def covered(self, placed: list[tuple[int, int]]) -> NDArray[np.float64]:
        """People covered per kind by the existing and the placed centres."""
        out = np.zeros(self.K)
        for k in range(self.K):
            hosts = np.array([h for h, kk in self.existing + placed if kk == k], np.intp)
            if hosts.size:
                out[k] = float(self.w @ (np.asarray(self.Cs[k][:, hosts].sum(axis=1)).ravel()
                                         > 0))
        return out

    def _broken(self, placed: list[tuple[int, int]]) -> str | None:
        pairs = set(self.pairs)
        if len(set(placed)) != len(placed) or not set(placed) <= pairs:
            return f"placements not new eligible pairs: {placed}"
        if self.total is not None and len(placed) > self.total:
            return f"{len(placed)} centres for total = {self.total}"
        kinds = np.bincount([k for _, k in placed], minlength=self.K)
        if self.per_type is not None and kinds.max(initial=0) > self.per_type:
            return f"centres per kind {kinds.tolist()} over per_type = {self.per_type}"
        held = np.bincount([h for h, _ in self.existing + placed], minlength=self.E.shape[0])
        new_at = np.bincount([h for h, _ in placed], minlength=self.E.shape[0])
        if np.any((new_at > 0) & (held > self.mtph)):
            return f"a host holds more than {self.mtph} kinds"
        if self.min_share is not None:
            tol = 1e-9 * max(1.0, float(self.w.sum()))
            if np.any(self.covered(placed) < self.min_share * float(self.w.sum()) - tol):
                return "a kind misses its minimum share"
        return None

    def value(self, placed: list[tuple[int, int]]) -> float:
        """Weighted people covered, summed over kinds."""
        return float(self.vk @ self.covered(placed))

    def call(self, solver: str, time_limit: float | None, gap: float | None) -> Any:
        """Run the model."""
        cov = self.Cs[0] if self.same_matrix else list(self.Cs)
        return gopt.function_centres(cov, self.w, self.E, total=self.total,
                                     per_type=self.per_type, max_types_per_host=self.mtph,
                                     existing=self.existing, min_share=self.min_share,
                                     type_weights=self.v, solver=solver,
                                     time_limit=time_limit, gap=gap)

    def read(self, plan: Any) -> list[Outcome]:
        """Read the plan's new placements, valued here."""
        pl = plan.details.get("placements")
        placed = [] if pl is None else [(int(h), int(k)) for h, k, s in
                                        pl[["host", "kind", "status"]].itertuples(index=False)
                                        if s == "new"]
        return [_outcome(plan, self.value(placed), self._broken(placed))]

    def brute(self) -> list[float | None]:
        """Every subset of the new eligible pairs."""
        pairs = self.pairs
        masks = _subsets(len(pairs))
        P = np.array(pairs, np.intp).reshape(-1, 2)
        ok = np.ones(len(masks), bool)
        if self.total is not None:
            ok &= masks.sum(axis=1) <= self.total
        hosts, kinds = P[:, 0], P[:, 1]
        held = np.bincount([h for h, _ in self.existing], minlength=self.E.shape[0])
        for h in np.unique(hosts):
            ok &= masks[:, hosts == h].sum(axis=1) <= max(self.mtph - held[h], 0)
        value = np.zeros(len(masks))
        tol = 1e-9 * max(1.0, float(self.w.sum()))
        for k in range(self.K):
            on = kinds == k
            if self.per_type is not None:
                ok &= masks[:, on].sum(axis=1) <= self.per_type
            ex = np.array([h for h, kk in self.existing if kk == k], np.intp)
            fixed = (np.asarray(self.Cs[k][:, ex].sum(axis=1)).ravel() > 0 if ex.size
                     else np.zeros(self.w.size, bool))
            cov = self.Cs[k][:, hosts[on]].toarray().astype(np.int32)
            covk = (fixed[None, :] | ((masks[:, on].astype(np.int32) @ cov.T) > 0)) @ self.w
            if self.min_share is not None:
                ok &= covk >= self.min_share * float(self.w.sum()) - tol
            value += self.vk[k] * covk
        return [float(value[ok].max())] if ok.any() else [None]

    def milp(self, time_limit: float | None = None) -> list[float | None]:
        """Solve the MILP: x per new eligible pair, y per row and kind, the docstring's rows."""
        pairs, n, K = self.pairs, self.w.size, self.K
        P = len(pairs)
        nv = P + n * K
        rows: list[tuple[Any, Any, Any]] = []
        cost = np.zeros(nv)
        tol = 1e-9 * max(1.0, float(self.w.sum()))
        for k in range(K):
            ex = np.array([h for h, kk in self.existing if kk == k], np.intp)
            fixed = (np.asarray(self.Cs[k][:, ex].sum(axis=1)).ravel() > 0 if ex.size
                     else np.zeros(n, bool))
            idx = [q for q, (_, kk) in enumerate(pairs) if kk == k]
            ri, ci = [np.arange(n)], [P + k * n + np.arange(n)]
            vals = [np.ones(n)]
            for q in idx:
                hit = np.flatnonzero(self.Cs[k][:, pairs[q][0]].toarray().ravel())
                ri.append(hit)
                ci.append(np.full(hit.size, q))
                vals.append(-np.ones(hit.size))
            A = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(ri),
                                                          np.concatenate(ci))), shape=(n, nv))
            rows.append((A, -np.inf, fixed.astype(float)))
            cost[P + k * n:P + (k + 1) * n] = -self.vk[k] * self.w
            if self.min_share is not None:
                e = np.zeros(nv)
                e[P + k * n:P + (k + 1) * n] = self.w
                rows.append((e[None, :], self.min_share * float(self.w.sum()) - tol, np.inf))
            if self.per_type is not None and idx:
                e = np.zeros(nv)
                e[idx] = 1.0
                rows.append((e[None, :], -np.inf, self.per_type))
        if self.total is not None and P:
            rows.append((np.r_[np.ones(P), np.zeros(n * K)][None, :], -np.inf, self.total))
        held = np.bincount([h for h, _ in self.existing], minlength=self.E.shape[0])
        for h in sorted({h for h, _ in pairs}):
            e = np.zeros(nv)
            e[[q for q, (hh, _) in enumerate(pairs) if hh == h]] = 1.0
            rows.append((e[None, :], -np.inf, max(self.mtph - held[h], 0)))
        x = _milp(cost, np.r_[np.ones(P), np.zeros(n * K)], np.zeros(nv), np.ones(nv), rows,
                  time_limit)
        if x is None:
            return [None]
        placed = [pairs[q] for q in range(P) if x[q] > 0.5]
        if self._broken(placed):
            raise OracleError(f"oracle plan infeasible: {self._broken(placed)}")
        return [_agree(self.value(placed), -float(cost @ x), "function centres")]


def _gen_function_centres(rng: np.random.Generator, size: str,
                          ) -> tuple[FunctionCentres, str]:
    small = size == "small"
    hosts, K, n = _pick(rng, size, hosts=(2, 5, 8, 20, 30, 70), K=(1, 3, 1, 3, 2, 5),
                        n=(5, 40, 80, 200, 300, 900))
    D, S = _random_points(rng, n, hosts)
    d = _dist(D, S)
    same = bool(rng.random() < 0.5)
    radii = [math.sqrt(float(rng.uniform(0.8, 3.0)) / (hosts * math.pi))
             for _ in range(1 if same else K)]
    Cs = [sparse.csr_matrix(d <= r) for r in radii] * (K if same else 1)
    E = rng.random((hosts, K)) < 0.6
    if small:                                    # at most 12 pairs for the brute force
        on = np.flatnonzero(E.ravel())
        if on.size > 12:
            E.ravel()[rng.choice(on, on.size - 12, replace=False)] = False
    cand = [(h, k) for h in range(hosts) for k in range(K)]
    ex = [cand[i] for i in rng.choice(len(cand), int(rng.integers(0, 3)), replace=False)]
    integral = bool(rng.random() < 0.6)
    w = _weights(rng, n, "integral" if integral else "fractional", zeros=True)
    big = 1 if size != "large" else 4
    total = int(rng.integers(0, 6 * big)) if rng.random() < 0.7 else None
    per_type = (int(rng.integers(0, 4 * big)) if total is None or rng.random() < 0.4
                else None)
    mtph = int(rng.integers(1, 3))
    min_share = float(rng.choice([0.1, 0.2, 0.4])) if integral and rng.random() < 0.4 else None
    v = rng.integers(1, 4, K).astype(float) if rng.random() < 0.4 else None
    fc = FunctionCentres(Cs, same, w, E, total, per_type, mtph, ex, min_share, v)
    return fc, (f"n={n} hosts={hosts} kinds={K} pairs={len(fc.pairs)} existing={ex} "
                f"total={total} per_type={per_type} max_types_per_host={mtph} "
                f"min_share={min_share} type_weights={None if v is None else v.tolist()}")


# ----------------------------------------------------------------------- capacitated / zones


@dataclass
class CapacitatedMaxCovering(MaxCovering):
    """:func:`geoplan.optimize.capacitated_max_covering` (divisible): the people an open set
    serves is a max-flow LP (``scipy.optimize.linprog``), enumerated or in one MILP."""

    Q: NDArray[np.float64] = None  # type: ignore[assignment]
    model = "capacitated_max_covering"

    def value(self, sel: NDArray[np.intp]) -> float:
        """People the existing and selected sites serve within the standard and capacities."""
        c = self.cover
        cols = np.union1d(c.existing, sel).astype(np.intp)
        C = c.C.toarray().astype(bool)
        pairs = [(i, j) for j in cols for i in np.flatnonzero(C[:, j])]
        if not pairs:
            return 0.0
        n = C.shape[0]
        A = np.zeros((n + cols.size, len(pairs)))
        for e, (i, j) in enumerate(pairs):
            A[i, e] = 1.0
            A[n + int(np.searchsorted(cols, j)), e] = c.w[i]
        r = linprog(-np.array([c.w[i] for i, _ in pairs]), A_ub=A,
                    b_ub=np.r_[np.ones(n), np.where(np.isfinite(self.Q[cols]), self.Q[cols], 1e15)],
                    bounds=(0, 1), method="highs")
        return float(-r.fun)

    def call(self, solver: str, time_limit: float | None, gap: float | None) -> Any:
        """Run the model."""
        c = self.cover
        return gopt.capacitated_max_covering(
            c.C, c.w, self.Q, p=self.p, budget=self.budget,
            costs=c.costs if self.budget is not None else None, existing=c.existing,
            solver=solver, time_limit=time_limit, gap=gap)

    def brute_p(self, p: int | None) -> float:
        """Best served weight over every candidate subset (at most ``p``, in budget).

        Only the subsets no further candidate fits into (within ``p`` and the budget) are
        solved: an added site never serves fewer people (every flow of the smaller set
        stays feasible) and costs are >= 0, so each other subset lies inside one of them
        and serves at most what it serves. A third of the LPs or fewer; the same optimum.
        """
        c = self.cover
        masks = _subsets(c.cand.size)
        size = masks.sum(axis=1)
        ok = np.ones(len(masks), bool) if p is None else size <= p
        room = np.full(len(masks), np.inf)              # budget left per subset
        cost = np.zeros(c.cand.size)
        if self.budget is not None:
            cost = c.costs[c.cand]
            assert (cost >= 0).all(), "the pruning below needs costs >= 0"
            room = self.budget + 1e-9 - masks.astype(float) @ cost
            ok &= room >= 0
        fits = (~masks & (cost[None, :] <= room[:, None])).any(axis=1)
        if p is not None:
            fits &= size < p
        best = 0.0
        for mask in masks[ok & ~fits]:
            best = max(best, self.value(c.cand[mask]))
        return best

    def milp_p(self, p: int | None, time_limit: float | None) -> float:
        """Unreduced MILP: x per pair (share), y per column (existing fixed to 1)."""
        c = self.cover
        n, m = c.C.shape
        coo = c.C.tocoo()
        E = coo.nnz
        cost = np.r_[np.zeros(m), -c.w[coo.row]]
        lo = np.zeros(m + E)
        lo[c.existing] = 1.0
        assign = sparse.csr_matrix((np.ones(E), (coo.row, m + np.arange(E))), shape=(n, m + E))
        load = sparse.csr_matrix((c.w[coo.row], (coo.col, m + np.arange(E))), shape=(m, m + E))
        big = np.where(np.isfinite(self.Q), self.Q, float(c.w.sum()) + 1.0)   # inf: no limit
        load = load - sparse.csr_matrix((big, (np.arange(m), np.arange(m))), shape=(m, m + E))
        link = sparse.csr_matrix((np.r_[np.ones(E), -np.ones(E)],
                                  (np.r_[np.arange(E), np.arange(E)],
                                   np.r_[m + np.arange(E), coo.col])), shape=(E, m + E))
        rows: list[tuple[Any, Any, Any]] = [(assign, -np.inf, np.ones(n)),
                                            (load, -np.inf, np.zeros(m)),
                                            (link, -np.inf, np.zeros(E))]
        is_c = np.zeros(m + E)
        is_c[c.cand] = 1.0
        if p is not None:
            rows.append((is_c[None, :], -np.inf, float(p)))
        if self.budget is not None:
            rows.append(((is_c * np.r_[c.costs, np.zeros(E)])[None, :], -np.inf, self.budget))
        x = _milp(cost, np.r_[np.ones(m), np.zeros(E)], lo, np.ones(m + E), rows, time_limit)
        assert x is not None
        sel = np.intersect1d(np.flatnonzero(x[:m] > 0.5), c.cand).astype(np.intp)
        return _agree(self.value(sel), -float(cost @ x), "capacitated max covering")


def _gen_capacitated_max_covering(rng: np.random.Generator, size: str
                                  ) -> tuple[CapacitatedMaxCovering, str]:
    base, shape = _gen_max_covering(rng, "small" if size == "small" else "mid")
    c = base.cover
    if size != "small":                 # the LP per subset is the cost: keep it mid-sized
        keep = np.arange(min(c.C.shape[0], 120))
        c = _Cover(c.C[keep], c.w[keep], c.existing, c.costs)
    total = max(float(c.w.sum()), 1.0)
    Q = np.round(rng.uniform(0.05, 0.4, c.m) * total, 1)
    Q[rng.random(c.m) < 0.15] = np.inf
    p = None if base.p is None else min(base.p, 5)
    return (CapacitatedMaxCovering(c, p, base.budget, Q=Q),
            f"{shape} p={p} budget={base.budget} capacities={Q.tolist()}")


@dataclass
class BalancedCovering(MaxCovering):
    """:func:`geoplan.optimize.balanced_covering` (coverage objective) with zone minimums."""

    row_zone: NDArray[np.object_] = None  # type: ignore[assignment]
    site_zone: NDArray[np.object_] = None  # type: ignore[assignment]
    zone_min: int = 0
    model = "balanced_covering"

    def _broken(self, sel: NDArray[np.intp], p: int | None) -> str | None:
        why = super()._broken(sel, p)
        if why:
            return why
        cols = np.union1d(self.cover.existing, sel).astype(np.intp)
        for z in self._zones():
            if int((self.site_zone[cols] == z).sum()) < self.zone_min:
                return f"zone {z} has fewer than {self.zone_min} open sites"
        return None

    def _zones(self) -> list[Any]:
        """Every zone, of the sites and of the demand: a zone minimum holds in each (a
        zone with people but no site cannot meet one)."""
        return sorted(set(self.site_zone.tolist()) | set(self.row_zone.tolist()))

    def call(self, solver: str, time_limit: float | None, gap: float | None) -> Any:
        """Run the model."""
        c = self.cover
        return gopt.balanced_covering(
            c.C, c.w, row_zone=self.row_zone, site_zone=self.site_zone, p=self.p,
            budget=self.budget, costs=c.costs if self.budget is not None else None,
            existing=c.existing, zone_min_sites=self.zone_min, price_of_balance=False,
            solver=solver, time_limit=time_limit, gap=gap)

    def brute_p(self, p: int | None) -> float | None:  # type: ignore[override]
        """Best covered weight over subsets meeting the zone minimums (None: none do)."""
        c = self.cover
        masks = _subsets(c.cand.size)
        ok = np.array([self._broken(c.cand[mk], p) is None for mk in masks], bool)
        if not ok.any():
            return None
        return float((c.all_covered(masks[ok]) @ c.w).max())

    def milp_p(self, p: int | None, time_limit: float | None) -> float | None:  # type: ignore[override]
        """Unreduced MILP with the zone rows."""
        c = self.cover
        n, m = c.C.shape
        cost = np.r_[np.zeros(m), -c.w]
        lo = np.zeros(m + n)
        lo[c.existing] = 1.0
        link = sparse.hstack([-c.C.astype(float), sparse.eye(n)])
        rows: list[tuple[Any, Any, Any]] = [(link, -np.inf, np.zeros(n))]
        is_c = np.zeros(m + n)
        is_c[c.cand] = 1.0
        if p is not None:
            rows.append((is_c[None, :], -np.inf, float(p)))
        if self.budget is not None:
            rows.append(((is_c * np.r_[c.costs, np.zeros(n)])[None, :], -np.inf, self.budget))
        for z in self._zones():
            in_z = np.r_[(self.site_zone == z).astype(float), np.zeros(n)]
            rows.append((in_z[None, :], float(self.zone_min), np.inf))
        x = _milp(cost, np.r_[np.ones(m), np.zeros(n)], lo, np.ones(m + n), rows, time_limit)
        if x is None:
            return None
        sel = np.intersect1d(np.flatnonzero(x[:m] > 0.5), c.cand).astype(np.intp)
        return _agree(self.value(sel), -float(cost @ x), "balanced covering")


def _gen_balanced_covering(rng: np.random.Generator, size: str
                           ) -> tuple[BalancedCovering, str]:
    base, shape = _gen_max_covering(rng, size)
    c = base.cover
    zones = np.array(["a", "b", "c"], dtype=object)
    sz = zones[rng.integers(0, 3, c.m)]
    rz = zones[rng.integers(0, 3, c.C.shape[0])]
    zmin = int(rng.integers(0, 2))
    return (BalancedCovering(c, base.p, base.budget, row_zone=rz, site_zone=sz,
                             zone_min=zmin),
            f"{shape} site_zones={sz.tolist()} zone_min={zmin}")


# ----------------------------------------------------------------------------- tiered plans


@dataclass
class Tiered:
    """:func:`geoplan.optimize.tiered_plan`: sites assigned to tiers, referral between tiers.

    The rules, as the module docstring of :mod:`geoplan.optimize.tiered` states them: a
    site runs at one tier at most (``tier[j]`` in 0..L, 0 = none); counts per tier
    (existing included) within their bounds; an existing site of tier ``e`` runs at a
    tier in 1..e; a site takes only the tiers ``allowed`` (and its costs, NaN = not)
    give it, an existing site its own tier always; a tier-``k`` site with a referral
    matrix has a site ``j'`` with ``R[k][j, j']`` running at a tier above ``k``; budget;
    per-tier coverage floors; forced sites run, closed ones do not. A row is covered at
    tier ``k`` when a site running at tier ``k`` or above covers it in ``C[k]``.
    """

    C: list[NDArray[np.bool_]]                   # per tier, (rows, sites)
    w: NDArray[np.float64]
    counts: list[int | tuple[int, int]]
    R: list[NDArray[np.bool_] | None]            # per tier, (sites, sites); R[0] None
    e: NDArray[np.int64]                         # tier today (0: none)
    A: NDArray[np.bool_] | None                  # (sites, tiers) allowed
    alpha: NDArray[np.float64] | None            # tier weights
    objective: str
    costs: NDArray[np.float64] | None            # (sites, tiers), NaN = not allowed
    budget: float | None
    min_share: list[float | None] | None
    force_open: list[int]
    force_closed: list[int]
    sparse_input: bool
    model = "tiered"
    accepts_gap = True

    @property
    def sense(self) -> str:
        """Most weighted coverage, or least cost."""
        return "max" if self.objective == "coverage" else "min"

    @property
    def L(self) -> int:  # noqa: N802 - the number of tiers, as in the maths
        return len(self.C)

    @property
    def m(self) -> int:
        return int(self.C[0].shape[1])

    @property
    def bounds(self) -> list[tuple[int, int]]:
        return [(c, c) if isinstance(c, int) else (int(c[0]), int(c[1])) for c in self.counts]

    @property
    def may(self) -> NDArray[np.bool_]:
        """``(sites, tiers + 1)``: which tiers (column 0 = none) each site may take."""
        m, L = self.m, self.L
        ok = np.ones((m, L), bool) if self.A is None else self.A.copy()
        if self.costs is not None:
            ok &= ~np.isnan(self.costs)
        ok[self.force_closed] = False
        none = np.ones(m, bool)
        none[self.force_open] = False
        for j in np.flatnonzero(self.e > 0):
            ej = int(self.e[j])
            ok[j, ej - 1] = True                       # its own tier, whatever is given
            ok[j, ej:] = False                         # never down
            none[j] = False                            # never closed
        return np.c_[none, ok]

    @property
    def cost0(self) -> NDArray[np.float64]:
        """``(sites, tiers + 1)`` cost of each choice (none: 0; own tier: 0; NaN: 0)."""
        c = np.zeros((self.m, self.L)) if self.costs is None else np.nan_to_num(self.costs)
        c = c.copy()
        for j in np.flatnonzero(self.e > 0):
            c[j, self.e[j] - 1] = 0.0
        return np.c_[np.zeros(self.m), c]

    @property
    def _tol(self) -> float:
        return 1e-9 * max(1.0, float(self.w.sum()))

    def _covered(self, T: NDArray[np.int64]) -> list[NDArray[np.bool_]]:  # noqa: N803
        """Per tier, ``(plans, rows)``: covered at that tier by sites at it or above."""
        out = []
        for k in range(self.L):
            up = ((T > 0) & (T <= k + 1)).astype(np.int32)
            out.append((up @ self.C[k].T.astype(np.int32)) > 0)
        return out

    def _ok_and_values(self, T: NDArray[np.int64]  # noqa: N803
                       ) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        """Per plan (rows of ``T``): whether it keeps every rule, and its objective."""
        m = self.m
        ok = self.may[np.arange(m)[None, :], T].all(axis=1)
        for k, (lo, hi) in enumerate(self.bounds):
            cnt = (T == k + 1).sum(axis=1)
            ok &= (cnt >= lo) & (cnt <= hi)
        for k in range(1, self.L):
            Rk = self.R[k]  # noqa: N806
            if Rk is None:
                continue
            upper = ((T > 0) & (T <= k)).astype(np.int32)
            reach = (upper @ Rk.T.astype(np.int32)) > 0      # [plan, j]: a j' above in reach
            ok &= ~((T == k + 1) & ~reach).any(axis=1)
        spent = self.cost0[np.arange(m)[None, :], T].sum(axis=1)
        if self.budget is not None:
            ok &= spent <= self.budget + 1e-9
        alpha = np.ones(self.L) if self.alpha is None else self.alpha
        shares = [None] * self.L if self.min_share is None else self.min_share
        cover = np.zeros(len(T))
        for k, cov in enumerate(self._covered(T)):
            people = cov.astype(float) @ self.w
            if shares[k] is not None:
                ok &= people >= shares[k] * float(self.w.sum()) - self._tol
            cover += alpha[k] * people
        return ok, (cover if self.objective == "coverage" else spent)

    def value(self, tier: NDArray[np.int64]) -> float:
        """Objective of one plan (weighted coverage, or cost)."""
        return float(self._ok_and_values(tier[None, :])[1][0])

    def _broken(self, tier: NDArray[np.int64]) -> str | None:
        if tier.shape != (self.m,) or tier.min(initial=0) < 0 or tier.max(initial=0) > self.L:
            return f"tiers {tier.tolist()} are not one of 0..{self.L} per site"
        if not self._ok_and_values(tier[None, :])[0][0]:
            return f"the plan's tiers {tier.tolist()} break a rule"
        return None

    def call(self, solver: str, time_limit: float | None, gap: float | None) -> Any:
        """Run the model."""
        def mat(x: NDArray[np.bool_] | None) -> Any:
            return None if x is None else sparse.csr_matrix(x) if self.sparse_input else x
        return gopt.tiered_plan(
            [mat(c) for c in self.C], self.w, counts=self.counts,
            referral=[mat(r) for r in self.R], existing_tier=self.e, allowed=self.A,
            tier_weights=self.alpha, objective=self.objective, costs=self.costs,
            budget=self.budget, min_share=self.min_share, force_open=self.force_open,
            force_closed=self.force_closed, solver=solver, time_limit=time_limit, gap=gap)

    def read(self, plan: Any) -> list[Outcome]:
        """Read the plan's tier per site, valued here."""
        tier = np.asarray(plan.details.get("tier", np.zeros(self.m)), np.int64).ravel()
        broken = self._broken(tier)
        value = math.nan if tier.shape != (self.m,) else self.value(tier)
        return [_outcome(plan, value, broken)]

    def brute(self) -> list[float | None]:
        """Every assignment of sites to tiers 0..L, vectorised."""
        T = np.array(list(itertools.product(range(self.L + 1), repeat=self.m)),  # noqa: N806
                     np.int64).reshape(-1, self.m)
        ok, val = self._ok_and_values(T)
        if not ok.any():
            return [None]
        return [float(val[ok].max() if self.sense == "max" else val[ok].min())]

    def milp(self, time_limit: float | None = None) -> list[float | None]:
        """Unreduced MILP: binary x per site and tier, y in [0, 1] per row and tier."""
        m, L, n = self.m, self.L, self.w.size
        nx = m * L
        nv = nx + n * L

        def xi(j: Any, k: Any) -> Any:
            return np.asarray(j) * L + k

        may = self.may
        lo, hi = np.zeros(nv), np.ones(nv)
        hi[:nx] = may[:, 1:].ravel().astype(float)
        rows: list[tuple[Any, Any, Any]] = []
        one = sparse.csr_matrix((np.ones(nx), (np.repeat(np.arange(m), L), np.arange(nx))),
                                shape=(m, nv))
        rows.append((one, (~may[:, 0]).astype(float), np.ones(m)))   # 1 when it must run
        for k, (lo_k, hi_k) in enumerate(self.bounds):
            e = np.zeros(nv)
            e[xi(np.arange(m), k)] = 1.0
            rows.append((e[None, :], float(lo_k), float(hi_k)))
        for k in range(L):                     # y_ik <= sum_{j covers i} sum_{l <= k} x_jl
            r, c = np.nonzero(self.C[k])
            rr = np.concatenate([r] * (k + 1))
            cc = np.concatenate([xi(c, up) for up in range(k + 1)])
            A = sparse.csr_matrix((np.r_[-np.ones(rr.size), np.ones(n)],  # noqa: N806
                                   (np.r_[rr, np.arange(n)], np.r_[cc, nx + k * n + np.arange(n)])),
                                  shape=(n, nv))
            rows.append((A, -np.inf, np.zeros(n)))
        for k in range(1, L):                  # x_jk <= sum_{j' in reach} sum_{l < k} x_j'l
            Rk = self.R[k]  # noqa: N806
            if Rk is None:
                continue
            r, c = np.nonzero(Rk)
            rr = np.concatenate([r] * k)
            cc = np.concatenate([xi(c, up) for up in range(k)])
            A = sparse.csr_matrix((np.r_[-np.ones(rr.size), np.ones(m)],  # noqa: N806
                                   (np.r_[rr, np.arange(m)], np.r_[cc, xi(np.arange(m), k)])),
                                  shape=(m, nv))
            rows.append((A, -np.inf, np.zeros(m)))
        spend = np.r_[self.cost0[:, 1:].ravel(), np.zeros(n * L)]
        if self.budget is not None:
            rows.append((spend[None, :], -np.inf, self.budget))
        shares = [None] * L if self.min_share is None else self.min_share
        for k, s in enumerate(shares):
            if s is not None:
                e = np.zeros(nv)
                e[nx + k * n:nx + (k + 1) * n] = self.w
                rows.append((e[None, :], s * float(self.w.sum()) - self._tol, np.inf))
        if self.objective == "coverage":
            alpha = np.ones(L) if self.alpha is None else self.alpha
            cost = np.r_[np.zeros(nx), -np.concatenate([alpha[k] * self.w for k in range(L)])]
        else:
            cost = spend
        x = _milp(cost, np.r_[np.ones(nx), np.zeros(n * L)], lo, hi, rows, time_limit)
        if x is None:
            return [None]
        X = x[:nx].reshape(m, L) > 0.5  # noqa: N806
        tier = np.where(X.any(axis=1), X.argmax(axis=1) + 1, 0).astype(np.int64)
        if self._broken(tier):
            raise OracleError(f"oracle plan infeasible: {self._broken(tier)}")
        claimed = -float(cost @ x) if self.objective == "coverage" else float(cost @ x)
        return [_agree(self.value(tier), claimed, "tiered plan")]


def _tier_counts(rng: np.random.Generator, m: int, L: int,  # noqa: N803
                 ) -> tuple[NDArray[np.int64], list[int | tuple[int, int]]]:
    """Existing tiers, and counts around those of a reference plan.

    The reference plan keeps the existing sites at their tiers and has about a sixth, a
    third, a half of 70 % of the sites per tier (1-2 top sites when there are tiers
    below): the counts alone can hold; other rules may still break them.
    """
    e = np.zeros(m, np.int64)
    if rng.random() < 0.5:
        ex = rng.choice(m, int(rng.integers(1, min(3, m - 1) + 1)), replace=False)
        e[ex] = rng.integers(1, L + 1, ex.size)
    ref = e.copy()
    for k in range(L):
        size_k = (int(rng.integers(1, 3)) if k == 0 and L > 1 else int(rng.integers(
            1, max(1, round(0.7 * m * (k + 1) / (L * (L + 1) / 2))) + 1)))
        free = np.flatnonzero(ref == 0)
        add = min(free.size, max(0, size_k - int((ref == k + 1).sum())))
        ref[rng.choice(free, add, replace=False)] = k + 1
    counts: list[int | tuple[int, int]] = []
    for k in range(L):
        c = int((ref == k + 1).sum())
        counts.append(c if rng.random() < 0.35 else
                      (max(0, c - int(rng.integers(0, 3))), c + int(rng.integers(0, 3))))
    return e, counts


def _tier_money(rng: np.random.Generator, m: int, L: int, objective: str,  # noqa: N803
                ) -> tuple[NDArray[np.float64] | None, float | None, list[float | None] | None]:
    """Costs (higher tiers dearer, NaN = not allowed), a budget and coverage targets."""
    costs = budget = None
    if objective == "cost" or rng.random() < 0.4:
        costs = (rng.integers(0, 6, (m, L)) + 3 * (L - np.arange(L))[None, :]).astype(float)
        costs[rng.random((m, L)) < 0.1] = np.nan
        if objective == "coverage" and rng.random() < 0.75:
            budget = float(rng.integers(0, int(np.nansum(costs) / 2) + 2))
    min_share: list[float | None] | None = None
    if objective == "cost":
        min_share = [float(rng.choice([0.1, 0.2, 0.4, 0.6, 0.8])) if rng.random() < 0.6
                     else None for _ in range(L)]
    elif rng.random() < 0.2:
        min_share = [float(rng.choice([0.1, 0.2, 0.3])) if rng.random() < 0.5 else None
                     for _ in range(L)]
    return costs, budget, min_share


def _tier_site_rules(rng: np.random.Generator, e: NDArray[np.int64],
                     A: NDArray[np.bool_] | None,  # noqa: N803
                     costs: NDArray[np.float64] | None, L: int,  # noqa: N803
                     ) -> tuple[list[int], list[int]]:
    """Draw a closed site, and a forced one that may take a tier (else an input error)."""
    new = np.flatnonzero(e == 0)
    force_open: list[int] = []
    force_closed: list[int] = []
    if new.size and rng.random() < 0.2:
        force_closed = [int(rng.choice(new))]
    free = np.setdiff1d(new, force_closed)
    if free.size and rng.random() < 0.2:
        j = int(rng.choice(free))
        may = np.ones(L, bool) if A is None else A[j].copy()
        if costs is not None:
            may &= ~np.isnan(costs[j])
        if may.any():
            force_open = [j]
    return force_open, force_closed


def _gen_tiered(rng: np.random.Generator, size: str) -> tuple[Tiered, str]:
    L = int(rng.choice([1, 2, 2, 3, 3]))  # noqa: N806
    if size == "small":                      # at most ~20,000 assignments to enumerate
        top = max(m for m in range(2, 9) if (L + 1) ** m <= 20_000)
        n, m = int(rng.integers(3, 31)), int(rng.integers(2, top + 1))
    else:
        n, m = _pick(rng, size, n=(0, 0, 40, 150, 80, 200), m=(0, 0, 10, 22, 16, 28))
    D, S = _random_points(rng, n, m)
    d = _dist(D, S)
    per_row = float(rng.uniform(0.6, 2.5))
    geo = size != "large" or rng.random() < 0.5
    C = []
    for _ in range(L):                       # the lowest tier first, the top's reach widest
        if geo:
            C.append(d <= math.sqrt(per_row / (m * math.pi)))
        else:                                # random sets: weak LP bounds, the MILP branches
            C.append((C[-1] if C else np.zeros((n, m), bool)) | (rng.random((n, m))
                                                                 < per_row / (2 * m)))
        per_row *= float(rng.uniform(1.5, 3.0))
    C = C[::-1]
    kind = str(rng.choice(["integral", "fractional"]))
    w = _weights(rng, n, kind, zeros=True)
    e, counts = _tier_counts(rng, m, L)
    ds = _dist(S, S)
    R: list[NDArray[np.bool_] | None] = [None]
    for _ in range(1, L):
        if rng.random() < 0.5:
            R.append((ds <= math.sqrt(float(rng.uniform(2.0, 6.0)) / (m * math.pi)))
                     & (rng.random((m, m)) < 0.9))
        else:
            R.append(None)
    A = rng.random((m, L)) < 0.75 if rng.random() < 0.35 else None
    alpha = rng.integers(0, 4, L).astype(float) if rng.random() < 0.4 else None
    objective = "cost" if rng.random() < 0.3 else "coverage"
    costs, budget, min_share = _tier_money(rng, m, L, objective)
    force_open, force_closed = _tier_site_rules(rng, e, A, costs, L)
    inst = Tiered(C, w, counts, R, e, A, alpha, objective, costs, budget, min_share,
                  force_open, force_closed, bool(rng.random() < 0.5))
    return inst, (f"n={n} m={m} tiers={L} {'radius' if geo else 'random sets'} "
                  f"weights={kind} counts={counts} "
                  f"referral={[r is not None for r in R]} existing_tier={e.tolist()} "
                  f"allowed={'random' if A is not None else 'all'} "
                  f"tier_weights={None if alpha is None else alpha.tolist()} "
                  f"objective={objective} costs={'yes' if costs is not None else 'no'} "
                  f"budget={budget} min_share={min_share} force_open={force_open} "
                  f"force_closed={force_closed}")


# ----------------------------------------------------------------------------- balanced p-median


@dataclass
class BalancedPMedian(PMedian):
    """:func:`geoplan.optimize.balanced_median.balanced_p_median` with site rules.

    The p-median with least and most open sites (existing included) per zone, forced and
    closed sites and most new sites per unit.
    """

    site_zone: NDArray[np.object_] = None  # type: ignore[assignment]
    row_zone: NDArray[np.object_] = None  # type: ignore[assignment]
    zone_min: int | dict[str, int] | None = None
    zone_max: int | dict[str, int] | None = None
    force_open: list[int] = None  # type: ignore[assignment]
    force_closed: list[int] = None  # type: ignore[assignment]
    unit_cap: int | None = None
    site_unit: NDArray[np.object_] | None = None
    model = "balanced_p_median"

    def _zone_rules(self) -> tuple[dict[str, int], dict[str, int]]:
        zones = sorted(set(self.site_zone.tolist()))

        def per(v: int | dict[str, int] | None) -> dict[str, int]:
            return {} if v is None else dict.fromkeys(zones, v) if isinstance(v, int) else v
        return per(self.zone_min), per(self.zone_max)

    def _keep(self, pool: NDArray[np.intp], combos: NDArray[np.intp]) -> NDArray[np.bool_]:
        """Per combination of ``pool`` columns: whether the zone and site rules hold."""
        ok = np.ones(len(combos), bool)
        chosen = pool[combos]                                   # (combos, p) columns
        for j in self.force_open:
            ok &= (chosen == j).any(axis=1)
        mins, maxs = self._zone_rules()
        for z in sorted(set(mins) | set(maxs)):
            have = int((self.site_zone[self.existing] == z).sum()) + (
                self.site_zone[chosen] == z).sum(axis=1)
            ok &= (have >= mins.get(z, 0)) & (have <= maxs.get(z, np.iinfo(np.int64).max))
        if self.unit_cap is not None:
            assert self.site_unit is not None
            for u in sorted(set(self.site_unit[self.cand].tolist())):
                ok &= (self.site_unit[chosen] == u).sum(axis=1) <= self.unit_cap
        return ok

    def _broken(self, sel: NDArray[np.intp]) -> str | None:
        why = super()._broken(sel)
        if why:
            return why
        if np.intersect1d(sel, self.force_closed).size:
            return f"opens closed sites {np.intersect1d(sel, self.force_closed).tolist()}"
        if not self._keep(sel, np.arange(sel.size)[None, :])[0]:
            return "the open sites break a zone rule, a forced site or a unit cap"
        return None

    def call(self, solver: str, time_limit: float | None, gap: float | None) -> Any:
        """Run the model (no price of balance: the oracle does not check it)."""
        return balanced_p_median(
            self.times, self.w, self.p, site_zone=self.site_zone, zone_min_sites=self.zone_min,
            zone_max_sites=self.zone_max, row_zone=self.row_zone, existing=self.existing,
            unassigned_time=self.unassigned, price_of_balance=False,
            force_open=self.force_open, force_closed=self.force_closed,
            max_new_per_unit=self.unit_cap,
            site_unit=self.site_unit if self.unit_cap is not None else None,
            solver=solver, time_limit=time_limit, gap=gap)

    def brute(self) -> list[float | None]:
        """Every p-set of the candidates not closed that keeps the rules."""
        pool, pos = np.setdiff1d(self.cand, self.force_closed).astype(np.intp), self.w > 0
        if self.p > pool.size:
            return [None]
        combos = _combos(pool.size, self.p)
        combos = combos[self._keep(pool, combos)]
        base = _near(self.t, self.existing)[pos]
        tc = self.t[pos][:, pool]
        best = math.inf
        step = max(1, 2_000_000 // max(1, int(pos.sum()) * max(self.p, 1)))
        for a in range(0, len(combos), step):
            cc = combos[a:a + step]
            near = (np.broadcast_to(base[None, :], (len(cc), base.size)) if self.p == 0
                    else np.minimum(base[None, :], tc[:, cc].min(axis=2).T))
            best = min(best, float((self._row_cost(near) @ self.w[pos]).min()))
        return [best if math.isfinite(best) else None]

    def _site_rows(self, lo: NDArray[np.float64], hi: NDArray[np.float64],
                   nv: int) -> list[tuple[Any, Any, Any]]:
        lo[self.force_open] = 1.0
        hi[self.force_closed] = 0.0
        m = self.t.shape[1]
        rows: list[tuple[Any, Any, Any]] = []
        mins, maxs = self._zone_rules()
        for z in sorted(set(mins) | set(maxs)):           # open sites, existing (fixed) too
            e = np.zeros(nv)
            e[:m] = (self.site_zone == z).astype(float)
            rows.append((e[None, :], float(mins.get(z, 0)), float(maxs.get(z, np.inf))))
        if self.unit_cap is not None:
            assert self.site_unit is not None
            for u in sorted(set(self.site_unit[self.cand].tolist())):
                e = np.zeros(nv)
                e[self.cand[self.site_unit[self.cand] == u]] = 1.0
                rows.append((e[None, :], -np.inf, float(self.unit_cap)))
        return rows


def _gen_balanced_p_median(rng: np.random.Generator, size: str
                           ) -> tuple[BalancedPMedian, str]:
    base, shape = _gen_p_median(rng, size)
    m, n = base.t.shape[1], base.t.shape[0]
    if base.unassigned is None and rng.random() < 0.6:
        # without unassigned_time p sites often leave a row unreached (infeasible before
        # any zone rule); a penalty keeps more instances for the zone rules to shape
        base.unassigned = round(float(np.max(base.t[np.isfinite(base.t)])) * 1.5, 1)
        shape = shape.replace("unassigned_time=None", f"unassigned_time={base.unassigned}")
    names = np.array([f"z{k}" for k in range(int(rng.integers(2, 5)))], dtype=object)
    sz = names[rng.integers(0, names.size, m)]
    rz = names[rng.integers(0, names.size, n)]
    present = sorted(set(sz.tolist()))

    def rule(ints: tuple[int, int]) -> int | dict[str, int] | None:
        r = rng.random()
        if r < 0.3:
            return None
        if r < 0.6:
            return int(rng.integers(*ints))
        zs = rng.choice(present, int(rng.integers(1, len(present) + 1)), replace=False)
        return {str(z): int(rng.integers(*ints)) for z in zs}
    # about an even share of the open sites per zone: rules that bind, mostly feasible
    per_zone = (base.p + base.existing.size) / len(present)
    zmin = rule((max(0, math.floor(per_zone) - 1), math.floor(per_zone) + 1))
    zmax = rule((math.ceil(per_zone), math.ceil(per_zone) + 2))
    cand = base.cand
    closed = ([int(j) for j in rng.choice(cand, min(cand.size, int(rng.integers(1, 3))),
                                          replace=False)] if rng.random() < 0.25 else [])
    free = np.setdiff1d(cand, closed)
    forced = ([int(rng.choice(free))] if base.p >= 1 and free.size and rng.random() < 0.2
              else [])
    cap = su = None
    if rng.random() < 0.2:
        cap = int(rng.integers(1, 4))
        su = np.array([f"u{k}" for k in rng.integers(0, 3, m)], dtype=object)
    inst = BalancedPMedian(base.t, base.times, base.w, base.existing, base.p, base.unassigned,
                           site_zone=sz, row_zone=rz, zone_min=zmin, zone_max=zmax,
                           force_open=forced, force_closed=closed, unit_cap=cap, site_unit=su)
    return inst, (f"{shape} site_zone={sz.tolist()} zone_min={zmin} zone_max={zmax} "
                  f"force_open={forced} force_closed={closed} max_new_per_unit={cap} "
                  f"site_unit={None if su is None else su.tolist()}")


# ----------------------------------------------------------------------------- cases


_GENERATORS: dict[str, Callable[[np.random.Generator, str], tuple[Any, str]]] = {
    "max_covering": _gen_max_covering,
    "set_covering": _gen_set_covering,
    "p_median": _gen_p_median,
    "p_center": _gen_p_center,
    "tradeoff": _gen_tradeoff,
    "beds": _gen_beds,
    "function_centres": _gen_function_centres,
    "capacitated_max_covering": _gen_capacitated_max_covering,
    "balanced_covering": _gen_balanced_covering,
    "tiered": _gen_tiered,
    "balanced_p_median": _gen_balanced_p_median,
}


@dataclass
class Case:
    """An instance, its exact optima and how to reproduce it.

    Attributes
    ----------
    instance
        One of the model classes above (``call``, ``read``, ``brute``, ``milp``).
    optima
        Exact optimum of each answer (None: infeasible), from ``oracle``.
    label
        ``gen_case(...)`` call and shape, printed with every violation.
    oracle, oracle_s
        Which oracle proved the optima and how long it took.
    """

    instance: Any
    optima: list[float | None]
    label: str
    oracle: str
    oracle_s: float

    @property
    def model(self) -> str:
        """Model name (one of :data:`MODELS`)."""
        return str(self.instance.model)

    def repro(self, solver: str, time_limit: float | None, gap: float | None) -> str:
        """Return a shell line that reproduces one run from the repository root."""
        call = self.label.split(" | ")[0]
        return (f"python -c \"import sys; sys.path.insert(0, 'tests'); import stress_cases as "
                f"s; c = s.{call}; print(c.optima, s.run_and_check(c, {solver!r}, "
                f"{time_limit!r}, {gap!r}))\"")


def gen_case(model: str, seed: int, size: str = "small", *,
             oracle_time_limit: float | None = None) -> Case:
    """Generate a reproducible random instance of ``model`` with its exact optimum.

    Parameters
    ----------
    model
        One of :data:`MODELS`.
    seed
        Seed of everything random about the instance.
    size
        ``"small"`` (brute-force oracle), ``"mid"`` or ``"large"`` (MILP oracle) or,
        for ``max_covering`` only, ``"issue"``: the bug report's 4,000 x 150 class.
    oracle_time_limit
        Give up (raise :class:`OracleError`) when the MILP oracle needs longer.

    Returns
    -------
    Case
    """
    if size == "issue":
        return issue_case(seed, oracle_time_limit=oracle_time_limit)
    rng = np.random.default_rng(seed)
    inst, shape = _GENERATORS[model](rng, size)
    t0 = time.perf_counter()
    if size == "small":
        optima, oracle = inst.brute(), "brute force"
    else:
        optima, oracle = inst.milp(oracle_time_limit), "MILP (scipy/HiGHS, gap 0)"
    return Case(inst, optima, f"gen_case({model!r}, {seed}, {size!r}) | {shape}", oracle,
                time.perf_counter() - t0)


def issue_case(seed: int, n: int = 4000, m: int = 150, radius: float = 0.2, p: int = 6,
               oracle_time_limit: float | None = None) -> Case:
    """Build the bug report's class: ``n`` points, ``m`` sites, a radius, weights 1-99.

    The optimum comes from the unreduced MILP, computed once per process (cached).

    Parameters
    ----------
    seed, n, m, radius, p
        The instance (``seed`` = 11 returned a false "optimal" 140,259 for 147,518).
    oracle_time_limit
        Give up (raise :class:`OracleError`) when the oracle needs longer.

    Returns
    -------
    Case
    """
    return _issue_case(int(seed), int(n), int(m), float(radius), int(p), oracle_time_limit)


@functools.lru_cache(maxsize=32)
def _issue_case(seed: int, n: int, m: int, radius: float, p: int,
                oracle_time_limit: float | None) -> Case:
    rng = np.random.default_rng(seed)
    D, S = _random_points(rng, n, m)
    C = sparse.csr_matrix(_dist(D, S) <= radius)
    w = rng.integers(1, 100, n).astype(float)
    inst = MaxCovering(_Cover(C, w, np.array([], np.intp), None), p, None)
    t0 = time.perf_counter()
    optima = inst.milp(oracle_time_limit)
    args = f"{seed}" + ("" if (n, m, radius, p) == (4000, 150, 0.2, 6)
                        else f", n={n}, m={m}, radius={radius}, p={p}")
    return Case(inst, optima, f"issue_case({args}) | n={n} m={m} radius={radius} p={p}",
                "MILP (scipy/HiGHS, gap 0)", time.perf_counter() - t0)


def cross_check(model: str, seed: int) -> tuple[list[float | None], list[float | None]]:
    """Both oracles on one small instance: brute force and the MILP must agree.

    For ``beds`` the instance is tiny and has the reach rows every other time, so the
    LP-checked enumeration of whole bed vectors is compared with the MILP too.

    Returns
    -------
    (brute-force optima, MILP optima)
    """
    rng = np.random.default_rng(seed)
    if model == "beds":
        inst, _ = _gen_beds(rng, "small", tiny=True, reach=bool(seed % 2))
    else:
        inst, _ = _GENERATORS[model](rng, "small")
    return inst.brute(), inst.milp(None)


# ----------------------------------------------------------------------------- checks


def allowed_seconds(time_limit: float) -> float:
    """Longest acceptable wall time of a call given ``time_limit``: 1.05 T + 1 s."""
    return 1.05 * time_limit + 1.0


def _close(a: float, b: float, tol: float) -> bool:
    return bool(abs(a - b) <= tol)


def _check_status(out: Outcome, opt: float | None,
                  time_limit: float | None) -> tuple[list[tuple[str, str]], bool]:
    """Check the status alone; returns the findings and whether the numbers need checks."""
    known = ("infeasible", "not_solved", *_FEASIBLE)
    if out.status not in known:
        why = f"unexpected status {out.status!r}"
    elif out.status == "not_solved":
        why = "not_solved without a time limit" if time_limit is None else ""
    elif opt is None:                                 # the oracle proved infeasibility
        why = ("" if out.status == "infeasible"
               else "a plan for an instance the oracle proves infeasible")
    elif out.status == "infeasible":
        why = "infeasible, but the oracle has a solution"
    else:
        return [], True
    return ([("bad_status", why)] if why else []), False


def _check_one(out: Outcome, opt: float | None, sense: str, time_limit: float | None,
               gap: float | None) -> list[tuple[str, str]]:
    """Return (kind, what) for every rule ``out`` breaks against the optimum ``opt``."""
    bad, numbers = _check_status(out, opt, time_limit)
    if not numbers:
        return bad
    assert opt is not None
    tol = 1e-6 * max(1.0, abs(opt))
    obj, bnd = out.objective, out.bound
    if out.status == "optimal" and not _close(obj, opt, tol):
        bad.append(("false_optimal", "status optimal but the objective is not the optimum"))
    if out.status == "time_limit":
        beyond = obj > opt + tol if sense == "max" else obj < opt - tol
        if beyond or math.isnan(obj):
            bad.append(("wrong_objective", "objective beyond the optimum (or NaN)"))
        if time_limit is None and gap is None:
            bad.append(("bad_status", "time_limit status with no time limit and no gap"))
    if out.broken:
        bad.append(("wrong_objective", f"the plan breaks the model: {out.broken}"))
    elif not _close(obj, out.value, 1e-6 * max(1.0, abs(out.value))):
        bad.append(("wrong_objective", "objective differs from its own plan's value"))
    if not math.isnan(bnd) and (bnd < opt - tol if sense == "max" else bnd > opt + tol):
        bad.append(("invalid_bound", "bound on the wrong side of the optimum"))
    if math.isfinite(obj) and math.isfinite(bnd):
        want = abs(obj - bnd) / max(abs(obj), 1e-9)
        if not _close(out.gap, want, 1e-6 + 1e-6 * want):
            bad.append(("bad_gap", f"gap {out.gap!r} but |objective - bound| / |objective| "
                                   f"= {want!r}"))
    return bad


def check(case: Case, outs: list[Outcome], elapsed: float, solver: str,
          time_limit: float | None, gap: float | None) -> list[Violation]:
    """Every rule the answers of one call break.

    Parameters
    ----------
    case
        The instance and its optima.
    outs
        The answers (one per optimum).
    elapsed
        Wall time of the call in seconds.
    solver, time_limit, gap
        How the model was called.

    Returns
    -------
    list of Violation
        Empty when every rule holds; each message carries the instance, solver, limit,
        status, objective, bound and optimum, and a line reproducing the run.
    """
    head = f"{case.label} | solver={solver} time_limit={time_limit} gap={gap}"
    tail = f"\n    reproduce: {case.repro(solver, time_limit, gap)}"
    found: list[Violation] = []
    if time_limit is not None and elapsed > allowed_seconds(time_limit):
        found.append(Violation("overrun", f"[overrun] {head} | elapsed {elapsed:.3f} s > "
                                          f"{allowed_seconds(time_limit):.3f} s allowed{tail}"))
    for out, opt in itertools.zip_longest(outs, case.optima):
        if out is None:
            found.append(Violation("wrong_objective", f"[wrong_objective] {head} | "
                                   f"fewer answers than optima{tail}"))
            continue
        for kind, what in _check_one(out, opt, case.instance.sense, time_limit, gap):
            found.append(Violation(kind, (
                f"[{kind}] {head}{' ' + out.point if out.point else ''} | {what} | "
                f"status={out.status} objective={out.objective!r} bound={out.bound!r} "
                f"gap={out.gap!r} optimum={opt!r} plan value={out.value!r} "
                f"elapsed={elapsed:.3f}s{tail}")))
    return found


def run_and_check(case: Case, solver: str, time_limit: float | None,
                  gap: float | None) -> list[Violation]:
    """Solve ``case`` with geoplan, time the call and check every answer.

    An exception raised by geoplan is a violation of kind ``"error"``.

    Returns
    -------
    list of Violation
    """
    inst = case.instance
    gap = gap if inst.accepts_gap else None
    t0 = time.perf_counter()
    try:
        result = inst.call(solver, time_limit, gap)
    except Exception as exc:  # noqa: BLE001 - any crash of the model is a finding
        where = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return [Violation("error", f"[error] {case.label} | solver={solver} "
                                   f"time_limit={time_limit} gap={gap} | raised {where}"
                                   f"\n    reproduce: {case.repro(solver, time_limit, gap)}")]
    elapsed = time.perf_counter() - t0
    return check(case, inst.read(result), elapsed, solver, time_limit, gap)

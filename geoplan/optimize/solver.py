"""Solving a PuLP model and reading back status, objective, best bound and gap.

Why: every location model in geoplan reports the same facts about its solve - status,
objective, best bound, optimality gap, solver, time - whichever MILP solver ran, and
"optimal" must always be a proof. PuLP gives an objective and a status but no bound,
reports a gap stop as "Optimal", and has no way to stop CBC when it overruns its limit.
So geoplan runs the solvers itself, with supported interfaces only:

* **HiGHS** through highspy's own API: the PuLP model is passed as one sparse matrix
  (:func:`matrix_form`), the time limit and gap are HiGHS options, a MIP start goes in
  with ``setSolution``, the best bound is ``mip_dual_bound``, and a watchdog thread calls
  ``cancelSolve`` (highspy's user interrupt) if HiGHS runs past its limit.
* **CBC** as a child process geoplan starts and owns: the model is written as MPS
  (``LpProblem.writeMPS``), CBC's log is read line by line (its final and running best
  bounds), and past the limit CBC is interrupted (SIGINT), then killed. CBC 2.10's
  preprocessing returned wrong "optimal" answers (a 4-variable beds model: 22 for 19;
  a share-target covering model: 11 for 9) and a false "infeasible" under a time
  limit, all found by geoplan's brute-force tests; so its result is never reported:
  a preprocessed run only supplies a starting plan (checked here), and the run whose
  status and bound are reported has preprocessing off (:func:`_solve_cbc`). Nothing of
  PuLP is replaced at run time, so solves in several threads or processes are
  independent.
* any other PuLP solver object runs through ``LpProblem.solve``; without a bound its
  answer is "optimal" only when PuLP says so and no gap option was given.

Status rules (:class:`SolveInfo`): ``"optimal"`` only when the solver proved the
optimum (a relative gap of at most :data:`OPTIMAL_GAP`, or an absolute gap of at most
:data:`OPTIMAL_ABS_GAP`, between the objective and a proven bound); a stop by the time
limit or a gap option with a solution is ``"time_limit"`` with the proven bound (NaN
when the solver proved none - never the objective itself).

Solver output is silent unless ``msg=True`` (then the solver's log goes to stdout);
the ``logging`` logger ``geoplan.solver`` (child of ``geoplan``) gets one line per solve
at DEBUG and, without ``msg``, CBC's log lines at DEBUG.

The default solver is :data:`DEFAULT_SOLVER` (:data:`MAX_COVERING_SOLVER` for maximal
covering, :data:`P_MEDIAN_SOLVER` for the p-median), chosen by
``benchmarks/bench_optimize.py`` and ``benchmarks/bench_median.py``.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np
import pulp

from geoplan._errors import GeoplanError, GeoplanInputError

log = logging.getLogger("geoplan.solver")

#: Solver used when none is given: ``"cbc"`` or ``"highs"`` (see the module docstring).
#: HiGHS: CBC 2.10's preprocessing returned wrong "optimal" answers on small models
#: (brute-force tests), so CBC runs twice (:func:`_solve_cbc`); set covering 10,000 x 500
#: on road times: CBC 4.6 s, HiGHS 18 s, but HiGHS 2.5-6 s against CBC 14-31 s on two
#: other instances of that shape (walking 10,000 x 1,000; e-bike, another seed).
DEFAULT_SOLVER = "highs"

#: Solver of maximal covering when none is given. Measured with
#: ``benchmarks/bench_optimize.py --time-limit 60`` (2 cores, 2026-11-24): after geoplan's
#: local search, LP bound and fixing, HiGHS proves the 10,000 x 500 walking p = 50 instance
#: in 25.4 s and the e-bike p = 10 one in 55.2 s where CBC stops at 0.53 % and 0.62 % gaps
#: after 60 s.
MAX_COVERING_SOLVER = "highs"

#: Solver of the p-median's master MILP when none is given (see ``geoplan.optimize.median``).
#: Measured with ``benchmarks/bench_median.py`` (2 cores, 2026-12-01) on real road times
#: (Porto Alegre, 1,124 populated hexagons x 1,227 sites, walking): p = 20 proven in
#: 58-93 s with HiGHS, 207-223 s with CBC; level at p = 10 and 40 and on OR-Library
#: pmed16-20 (CBC slightly faster on pmed16-17).
P_MEDIAN_SOLVER = "highs"

#: Status strings of :class:`SolveInfo`.
OPTIMAL = "optimal"
FEASIBLE = "time_limit"          # stopped by a limit with a feasible (not proven) solution
INFEASIBLE = "infeasible"
UNBOUNDED = "unbounded"
NOT_SOLVED = "not_solved"        # stopped with no feasible solution, or solver error
#: Relative gap up to which a solver's answer counts as proven (floating-point slack).
OPTIMAL_GAP = 1e-7
#: Absolute gap up to which a solver's answer counts as proven (HiGHS's default
#: ``mip_abs_gap``; populations and costs are far larger).
OPTIMAL_ABS_GAP = 1e-6


class SolverError(GeoplanError):
    """The solver failed or is not available."""


@dataclass(frozen=True)
class SolveInfo:
    """What a solve produced, independent of the solver.

    Attributes
    ----------
    status
        ``"optimal"`` (proven); ``"time_limit"`` (stopped by the time or gap limit with a
        feasible solution that is not proven optimal); ``"infeasible"`` (proven);
        ``"unbounded"``; ``"not_solved"`` (no feasible solution found, or a solver error).
    objective
        Objective value of the solution returned (NaN without one).
    bound
        Best bound proven by the solver (a lower bound when minimising, an upper bound
        when maximising); equals ``objective`` when proven optimal, NaN if the solver
        proved none.
    gap
        Relative optimality gap ``|objective - bound| / max(|objective|, 1e-9)``; 0 when
        proven optimal, NaN if unknown.
    solver
        Solver name, e.g. ``"CBC 2.10.3"`` or ``"HiGHS 1.16.0"``.
    solve_s
        Wall time of the solver call in seconds.
    """

    status: str
    objective: float
    bound: float
    gap: float
    solver: str
    solve_s: float

    @property
    def has_solution(self) -> bool:
        """Whether variable values are available (optimal or time-limited)."""
        return self.status in (OPTIMAL, FEASIBLE)


def proven(objective: float, bound: float) -> bool:
    """Whether ``bound`` proves ``objective`` optimal (within the optimality tolerances)."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return False
    diff = abs(objective - bound)
    return diff <= OPTIMAL_ABS_GAP or diff <= OPTIMAL_GAP * abs(objective)


def _rel_gap(obj: float, bound: float) -> float:
    if not (math.isfinite(obj) and math.isfinite(bound)):
        return math.nan
    g = abs(obj - bound) / max(abs(obj), 1e-9)
    return 0.0 if g < 1e-12 else g


def with_true_objective(info: SolveInfo, value: float) -> SolveInfo:
    """``info`` with the objective replaced by the plan's own recomputed value.

    Why: in a covering MILP the row variables ``y`` only need to be *at most* what the
    open sites cover; a time-limited incumbent may leave some below, so the solver's
    objective understates its own plan. The plan's true value is what a user reads; the
    bound stays the solver's, and a true value that meets it is a proof.
    """
    if not info.has_solution or not math.isfinite(value):
        return info
    if info.status == OPTIMAL or proven(value, info.bound):
        return replace(info, status=OPTIMAL, objective=value, bound=value, gap=0.0)
    return replace(info, objective=value, gap=_rel_gap(value, info.bound))


class Deadline:
    """The wall-clock budget of one model call, shared by all its steps.

    Why: a model that runs several steps (heuristics, LP bounds, several MILPs) must keep
    the user's ``time_limit`` as a whole, not per step.

    Parameters
    ----------
    limit
        Seconds from now; None for no limit.
    """

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.start = time.perf_counter()
        self.end = None if limit is None else self.start + float(limit)

    def left(self) -> float | None:
        """Seconds left (never negative), None without a limit."""
        return None if self.end is None else max(self.end - time.perf_counter(), 0.0)

    def solver_limit(self) -> float | None:
        """What is left as a solver's ``time_limit``: at least 10 ms, None without a limit.

        Why: between a caller's ``expired()`` check and the solve the clock may run out;
        a solver must still start (and hand back the plan it was given), not be refused a
        zero limit.
        """
        rem = self.left()
        return None if rem is None else max(rem, 0.01)

    def expired(self, margin: float = 0.0) -> bool:
        """Whether at most ``margin`` seconds are left."""
        rem = self.left()
        return rem is not None and rem <= margin

    def share(self, fraction: float, cap: float | None = None) -> float | None:
        """``fraction`` of what is left (at most ``cap``); ``cap`` without a limit."""
        rem = self.left()
        if rem is None:
            return cap
        out = fraction * rem
        return out if cap is None else min(out, cap)

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.start


def time_left(time_limit: float | None, t0: float) -> float | None:
    """What is left of ``time_limit`` seconds counted from ``t0`` (``time.perf_counter()``).

    At least 10 ms, so a solver still starts (and returns a plan it is given); None
    without a limit.
    """
    if time_limit is None:
        return None
    return max(float(time_limit) - (time.perf_counter() - t0), 0.01)


def _highs_version() -> str:
    try:
        from importlib.metadata import version
        return f"HiGHS {version('highspy')}"
    except Exception:  # pragma: no cover - highspy missing
        return "HiGHS"


@dataclass(frozen=True)
class _Config:
    """Which solver runs and with what options (private)."""

    kind: str                          # "cbc", "highs" or "pulp" (any other PuLP solver)
    time_limit: float | None
    gap: float | None
    threads: int | None
    msg: bool
    path: str | None = None            # CBC executable
    pulp_solver: Any = None            # the user's object for kind "pulp"
    presolve: bool = True              # HiGHS: off to confirm an "infeasible" (see below)


def _check_limits(time_limit: Any, gap: Any) -> None:
    if time_limit is not None and not (isinstance(time_limit, (int, float))
                                       and time_limit > 0 and math.isfinite(time_limit)):
        raise GeoplanInputError(f"time_limit must be a positive number of seconds, got "
                                f"{time_limit!r}", field="time_limit")
    if gap is not None and not (isinstance(gap, (int, float)) and 0 <= gap < 1):
        raise GeoplanInputError(f"gap must be in [0, 1), got {gap!r}", field="gap")


def _cbc_path() -> str:
    from pulp.apis import coin_api
    return str(coin_api.PULP_CBC_CMD.pulp_cbc_path)


def configure(solver: str | pulp.LpSolver | None = None, *, time_limit: float | None = None,
              gap: float | None = None, threads: int | None = 1,
              msg: bool = False) -> _Config:
    """Check the solver options and decide how the solve runs.

    A PuLP solver object brings its own options (time limit, gap, threads, log); the
    keyword options still apply: the tighter time limit wins, ``gap`` replaces the
    object's.

    Raises
    ------
    GeoplanInputError
        For an unknown solver name, an unavailable solver or invalid limits.
    """
    _check_limits(time_limit, gap)
    if isinstance(solver, pulp.LpSolver):
        own_t = getattr(solver, "timeLimit", None)
        t = own_t if time_limit is None else (time_limit if own_t is None
                                              else min(float(own_t), time_limit))
        g = gap if gap is not None else solver.optionsDict.get("gapRel")
        th = solver.optionsDict.get("threads", threads)
        m = bool(msg or solver.msg)
        if isinstance(solver, pulp.COIN_CMD):
            return _Config("cbc", t, g, th, m, path=solver.path)
        if isinstance(solver, pulp.HiGHS):
            return _Config("highs", t, g, th, m)
        return _Config("pulp", t, g, th, m, pulp_solver=solver)
    if solver is not None and not isinstance(solver, str):
        raise GeoplanInputError(f"unknown solver {solver!r}", field="solver",
                                hint="use 'cbc', 'highs' or a pulp solver object")
    name = (solver or DEFAULT_SOLVER).lower()
    if name in ("cbc", "pulp_cbc_cmd", "coin"):
        return _Config("cbc", time_limit, gap, threads, msg, path=_cbc_path())
    if name in ("highs", "highspy"):
        try:
            import highspy  # noqa: F401
        except ImportError:
            raise GeoplanInputError("the HiGHS solver is not available", field="solver",
                                    hint="pip install highspy, or use solver='cbc'") from None
        return _Config("highs", time_limit, gap, threads, msg)
    raise GeoplanInputError(f"unknown solver {solver!r}", field="solver",
                            hint="use 'cbc', 'highs' or a pulp solver object")


def make_solver(
    solver: str | pulp.LpSolver | None = None,
    *,
    time_limit: float | None = None,
    gap: float | None = None,
    threads: int | None = 1,
    msg: bool = False,
) -> pulp.LpSolver:
    """Return a configured PuLP solver object (for users who call ``prob.solve`` themselves).

    geoplan's own models do not use it: :func:`solve` runs CBC and HiGHS directly.

    Parameters
    ----------
    solver
        ``"cbc"``, ``"highs"``, None (:data:`DEFAULT_SOLVER`), or any PuLP solver object
        (returned as given).
    time_limit, gap, threads, msg
        Seconds before the solver stops; relative gap at which it may stop (default:
        prove optimality); threads; show the solver's log.

    Returns
    -------
    pulp.LpSolver

    Raises
    ------
    GeoplanInputError
        For an unknown solver name or invalid limits.
    """
    cfg = configure(solver, time_limit=time_limit, gap=gap, threads=threads, msg=msg)
    if isinstance(solver, pulp.LpSolver):
        return solver
    if cfg.kind == "cbc":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(msg=msg, timeLimit=time_limit, gapRel=gap, threads=threads)
    return pulp.HiGHS(msg=msg, timeLimit=time_limit, gapRel=0.0 if gap is None else gap,
                      threads=threads)


# --------------------------------------------------------------------------- model form


@dataclass
class MatrixForm:
    """A PuLP model as arrays: ``min/max c x + offset`` s.t. ``rl <= A x <= ru``, bounds.

    Attributes
    ----------
    variables
        The PuLP variables in column order.
    cost, offset, maximize
        Objective coefficients, constant and sense.
    lower, upper
        Column bounds (``-inf``/``inf`` when free).
    integer
        Whether each column is integer.
    indptr, indices, values
        The constraint matrix, row-wise (CSR).
    row_lower, row_upper
        Row bounds.
    row_names
        The PuLP constraint names in row order.
    """

    variables: list[pulp.LpVariable]
    cost: np.ndarray
    offset: float
    maximize: bool
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    row_names: list[str]

    @property
    def is_mip(self) -> bool:
        """Whether any column is integer."""
        return bool(self.integer.any())


def matrix_form(prob: pulp.LpProblem) -> MatrixForm:
    """The arrays of a PuLP model (one pass over its terms, no solver involved).

    Parameters
    ----------
    prob
        A PuLP model.

    Returns
    -------
    MatrixForm
    """
    variables = prob.variables()
    col = {id(v): k for k, v in enumerate(variables)}
    n = len(variables)
    cost = np.zeros(n)
    objective = prob.objective if prob.objective is not None else pulp.LpAffineExpression()
    for v, a in objective.items():
        cost[col[id(v)]] += a
    inf = math.inf
    lower = np.array([-inf if v.lowBound is None else float(v.lowBound) for v in variables])
    upper = np.array([inf if v.upBound is None else float(v.upBound) for v in variables])
    integer = np.array([v.cat == pulp.LpInteger for v in variables], bool)
    names = list(prob.constraints)
    lens = np.zeros(len(names) + 1, np.int64)
    idx: list[int] = []
    val: list[float] = []
    rl = np.empty(len(names))
    ru = np.empty(len(names))
    get = col.__getitem__
    for r, name in enumerate(names):
        con = prob.constraints[name]
        idx.extend(get(id(v)) for v in con)
        val.extend(con.values())
        lens[r + 1] = len(con)
        rhs = -float(con.constant)
        if con.sense == pulp.LpConstraintLE:
            rl[r], ru[r] = -inf, rhs
        elif con.sense == pulp.LpConstraintGE:
            rl[r], ru[r] = rhs, inf
        else:
            rl[r] = ru[r] = rhs
    return MatrixForm(variables=variables, cost=cost, offset=float(objective.constant),
                      maximize=prob.sense == pulp.LpMaximize, lower=lower, upper=upper,
                      integer=integer, indptr=np.cumsum(lens),
                      indices=np.asarray(idx, np.int32), values=np.asarray(val, float),
                      row_lower=rl, row_upper=ru, row_names=names)


# --------------------------------------------------------------------------- HiGHS


_highs_lock = threading.Lock()


def new_highs(threads: int | None = 1, msg: bool = False) -> Any:
    """A ``highspy.Highs`` object with its output off (unless ``msg``) and ``threads`` set.

    highspy prints a banner when the first object is made; it goes to the ``geoplan``
    logger instead of stdout.
    """
    import highspy

    with _highs_lock, _stdout_to_log(not msg):
        h = highspy.Highs()
    h.setOptionValue("output_flag", bool(msg))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    return h


class _stdout_to_log:  # noqa: N801 - used as a context manager
    """Send what C code writes to the process's stdout to the logger (fd level)."""

    def __init__(self, active: bool) -> None:
        self.active = active

    def __enter__(self) -> None:
        self.saved = None
        if not self.active:
            return
        try:
            sys.stdout.flush()
            self.saved = os.dup(1)
        except (OSError, ValueError):      # no real stdout (e.g. captured)
            return
        self.tmp = tempfile.TemporaryFile()
        os.dup2(self.tmp.fileno(), 1)

    def __exit__(self, *exc: Any) -> None:
        if self.saved is None:
            return
        os.dup2(self.saved, 1)
        os.close(self.saved)
        self.tmp.seek(0)
        text = self.tmp.read().decode("utf-8", "replace").strip()
        self.tmp.close()
        if text:
            log.debug("%s", text)


def run_highs(h: Any, *, deadline: float | None = None) -> Any:
    """Run a configured ``highspy.Highs`` and return its model status.

    Why: HiGHS keeps one thread scheduler per process; after a run with another thread
    count (the user's own, a notebook's) it refuses to start ("not solved"). Then the
    run is repeated on the scheduler that exists (``threads=0``), which is safe while
    other threads solve. With ``deadline`` (``time.perf_counter()`` seconds) a watchdog
    interrupts HiGHS through highspy's user interrupt if it runs past it.
    """
    import highspy

    timer = None
    if deadline is not None:
        h.HandleUserInterrupt = True
        timer = threading.Timer(max(deadline - time.perf_counter(), 0.0), h.cancelSolve)
        timer.daemon = True
        timer.start()
    try:
        status = h.run()
        if status == highspy.HighsStatus.kError and (
                h.getModelStatus() == highspy.HighsModelStatus.kNotset):
            log.debug("HiGHS refused to start (thread scheduler of another thread count); "
                      "running on the existing scheduler")
            h.setOptionValue("threads", 0)
            h.run()
    finally:
        if timer is not None:
            timer.cancel()
            h.HandleUserInterrupt = False
    return h.getModelStatus()


def _watchdog_grace(limit: float) -> float:
    """How long past its own limit a solver may run before geoplan stops it.

    Half a second (CBC's start and model read count against its limit here, not in
    CBC's own clock) plus 2 % of the limit: within the rule that a model call returns
    within its limit + 5 % + 1 s.
    """
    return 0.5 + 0.02 * limit


#: Models with at least this many nonzeros solve in a child process when a time limit is
#: set: HiGHS's presolve (probing) checks neither its time limit nor the user interrupt
#: for long stretches (50,000 x 1,000 maximal covering: 18.2 s of probing for a 3 s
#: limit), so only a process geoplan can stop keeps the limit. Smaller models presolve
#: in well under a second and solve in this process (no start-up cost).
HIGHS_CHILD_MIN_NNZ = 200_000


def _highs_model(mf: MatrixForm) -> Any:
    """The ``highspy.HighsLp`` of a matrix form."""
    import highspy

    lp = highspy.HighsLp()
    n, m = len(mf.variables), len(mf.row_names)
    lp.num_col_, lp.num_row_ = n, m
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = mf.cost, mf.lower, mf.upper
    lp.row_lower_, lp.row_upper_ = mf.row_lower, mf.row_upper
    lp.offset_ = mf.offset
    lp.sense_ = highspy.ObjSense.kMaximize if mf.maximize else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
    lp.a_matrix_.start_ = mf.indptr.astype(np.int32)
    lp.a_matrix_.index_ = mf.indices
    lp.a_matrix_.value_ = mf.values
    if mf.is_mip:
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else
                           highspy.HighsVarType.kContinuous for i in mf.integer]
    return lp


def _highs_run_model(mf: MatrixForm, cfg: _Config, start: tuple[Any, Any] | None,
                     deadline: float | None, child: bool = False) -> dict[str, Any]:
    """Build, run and read one HiGHS model; the result as plain data."""
    import highspy

    if child:
        # a forked process: only this thread exists, so no lock or logger is touched
        # (another thread of the parent may have held them at the fork)
        reset = getattr(highspy.Highs, "resetGlobalScheduler", None)
        if reset is not None:
            reset(True)
        if not cfg.msg:               # the banner and any log: this process's stdout only
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        h = highspy.Highs()
        h.setOptionValue("output_flag", bool(cfg.msg))
        if cfg.threads is not None:
            h.setOptionValue("threads", int(cfg.threads))
    else:
        h = new_highs(cfg.threads, cfg.msg)
    h.passModel(_highs_model(mf))
    if not cfg.presolve:
        h.setOptionValue("presolve", "off")
    h.setOptionValue("mip_rel_gap", 0.0 if cfg.gap is None else float(cfg.gap))
    if cfg.time_limit is not None:
        h.setOptionValue("time_limit", float(cfg.time_limit))
    if start is not None:
        idx, val = start
        h.setSolution(len(idx), idx, val)
    ms = run_highs(h, deadline=deadline)
    info = h.getInfo()
    out: dict[str, Any] = {"status": ms.name if hasattr(ms, "name") else str(ms),
                           "has_sol": info.primal_solution_status == 2,
                           "objective": float(info.objective_function_value),
                           "dual_bound": float(info.mip_dual_bound)}
    if out["has_sol"]:
        sol = h.getSolution()
        out["x"] = np.asarray(sol.col_value, float)
        if not mf.is_mip and sol.dual_valid:
            out["col_dual"] = np.asarray(sol.col_dual, float)
            out["row_dual"] = np.asarray(sol.row_dual, float)
        value = float(mf.cost @ out["x"]) + mf.offset
        if mf.is_mip and not proven(value, out["objective"]):
            # HiGHS 1.16 returned the start's values with a better objective (a set
            # covering model its presolve solved: objective 18, values of the 22-site
            # start; tests/test_opt_stress.py): solve again without the start, and in
            # any case report the values' own objective, so no status rests on it
            log.debug("HiGHS's solution (value %s) is not its objective (%s)", value,
                      out["objective"])
            if start is not None and (deadline is None or time.perf_counter() < deadline):
                left = None if deadline is None else max(deadline - time.perf_counter(), 0.01)
                return _highs_run_model(mf, replace(cfg, time_limit=left), None, deadline,
                                        child)
            out["objective"] = value
    return out


def _highs_child_main(conn: Any, mf: MatrixForm, cfg: _Config, start: Any) -> None:
    try:
        conn.send(_highs_run_model(mf, cfg, start, None, child=True))
    except BaseException as exc:  # noqa: BLE001 - report anything to the parent
        conn.send({"error": repr(exc)})
    finally:
        conn.close()


def _highs_in_child(mf: MatrixForm, cfg: _Config, start: Any,
                    deadline: float) -> dict[str, Any] | None:
    """Run HiGHS in a child process; kill it at ``deadline``. None when killed."""
    import multiprocessing as mp

    ctx = mp.get_context("fork" if os.name == "posix" else "spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_highs_child_main, args=(send, mf, cfg, start), daemon=True)
    proc.start()
    send.close()
    try:
        if recv.poll(max(deadline - time.perf_counter(), 0.0)):
            try:
                out = recv.recv()
            except EOFError:
                out = {"error": "the HiGHS process ended without an answer"}
            if "error" in out:
                raise SolverError(f"HiGHS failed: {out['error']}")
            return out
        log.debug("HiGHS ran past its time limit in a phase it does not interrupt: stopped")
        return None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        recv.close()


def _solve_highs(prob: pulp.LpProblem, cfg: _Config, warm_start: bool) -> SolveInfo:
    import highspy

    t0 = time.perf_counter()
    mf = matrix_form(prob)
    start = None
    if warm_start and mf.is_mip:
        given = [(k, float(v.varValue)) for k, v in enumerate(mf.variables)
                 if v.varValue is not None]
        if given:
            idx, val = zip(*given, strict=True)
            start = (np.asarray(idx, np.int32), np.asarray(val, float))
    deadline = None if cfg.time_limit is None else (
        t0 + cfg.time_limit + _watchdog_grace(cfg.time_limit))
    if deadline is not None and mf.values.size >= HIGHS_CHILD_MIN_NNZ:
        raw = _highs_in_child(mf, cfg, start, deadline)
        name = _highs_version() + (" (stopped at the time limit)" if raw is None else "")
        if raw is None:
            return _finish(prob, NOT_SOLVED, math.nan, math.nan, name,
                           time.perf_counter() - t0)
    else:
        raw = _highs_run_model(mf, cfg, start, deadline)
        name = _highs_version()
    solve_s = time.perf_counter() - t0
    MS = highspy.HighsModelStatus
    ms = getattr(MS, raw["status"], None)
    has_sol = bool(raw["has_sol"])
    obj = raw["objective"] if has_sol else math.nan
    bound = math.nan
    if mf.is_mip:
        if math.isfinite(raw["dual_bound"]):
            bound = raw["dual_bound"]
    elif ms == MS.kOptimal:
        bound = obj                                        # an LP optimum is exact
    if ms == MS.kOptimal and has_sol:
        st = OPTIMAL if (not mf.is_mip or proven(obj, bound)) else FEASIBLE
    elif ms == MS.kInfeasible:
        st = INFEASIBLE
    elif ms == MS.kUnboundedOrInfeasible:
        st = INFEASIBLE if (np.isfinite(mf.lower).all() and np.isfinite(mf.upper).all()) \
            else NOT_SOLVED
    elif ms == MS.kUnbounded:
        st = UNBOUNDED
    else:
        st = FEASIBLE if has_sol else NOT_SOLVED
    if st == INFEASIBLE and cfg.presolve and mf.is_mip:
        # HiGHS 1.16's presolve called feasible tiered models (referral rows) infeasible;
        # the same model without presolve, and CBC, solve them (tests/stress_cases.py,
        # seeds 1460464040 mid, 633762098 and 1591589091 large): "infeasible" stands only
        # when HiGHS says it again without presolve, in the time left
        left = None if cfg.time_limit is None else cfg.time_limit - (time.perf_counter() - t0)
        if left is not None and left <= 0.01:
            return _finish(prob, NOT_SOLVED, math.nan, math.nan, name + " (infeasible by "
                           "presolve, not confirmed in the time left)", solve_s)
        log.debug("HiGHS says infeasible: confirming without presolve")
        again = _solve_highs(prob, replace(cfg, presolve=False, time_limit=left), warm_start)
        return replace(again, solve_s=time.perf_counter() - t0)
    if has_sol:
        for v, x in zip(mf.variables, raw["x"].tolist(), strict=True):
            v.varValue = x
        if "col_dual" in raw:
            for v, d in zip(mf.variables, raw["col_dual"].tolist(), strict=True):
                v.dj = d
            for cname, d in zip(mf.row_names, raw["row_dual"].tolist(), strict=True):
                prob.constraints[cname].pi = d
    return _finish(prob, st, obj, bound, name, solve_s)


# --------------------------------------------------------------------------- CBC


_CBC_NUM = r"(-?[0-9.eE+-]+|inf|-inf|nan)"
#: CBC's running best bound, in its internal (minimising) sense.
_CBC_RUNNING = re.compile(r"best possible\s+" + _CBC_NUM)


def _parse_cbc_log(text: str) -> dict[str, Any]:
    """Result line, objective, final bound, gap and running bound from a CBC log.

    ``objective`` and ``bound`` are in the user's sense (CBC prints them so, without the
    objective's constant); ``running`` is the last "best possible" of the search, in
    CBC's internal minimising sense (negated when maximising).
    """
    out: dict[str, Any] = {}
    m = re.search(r"^Result - (.*)$", text, re.M)
    if m:
        out["result"] = m.group(1).strip()
    for key, pat in (("objective", r"^Objective value:\s*" + _CBC_NUM),
                     ("bound", r"^(?:Lower|Upper) bound:\s*" + _CBC_NUM),
                     ("gap", r"^Gap:\s*" + _CBC_NUM)):
        m = re.search(pat, text, re.M)
        if m:
            try:
                out[key] = float(m.group(1))
            except ValueError:
                pass
    running = _CBC_RUNNING.findall(text)
    if running:
        try:
            out["running"] = float(running[-1])
        except ValueError:
            pass
    m = re.search(r"Version:\s*([0-9.]+)", text)
    if m:
        out["version"] = m.group(1)
    return out


def _write_mip_start(path: str, variables: list[pulp.LpVariable],
                     names: dict[str, str]) -> None:
    """CBC's solution-file format, read by ``-mips``."""
    lines = ["Stopped on time - objective value 0\n"]
    for k, v in enumerate(variables):
        val = v.varValue if v.varValue is not None else 0.0
        lines.append(f"{k:>7} {names[v.name]} {val:>15} {0:>23}\n")
    with open(path, "w", encoding="ascii") as f:
        f.writelines(lines)


def _read_cbc_solution(path: str, prob: pulp.LpProblem, variables: list[pulp.LpVariable],
                       vnames: dict[str, str], cnames: dict[str, str]) -> str:
    """Assign the values of a CBC solution file; return its status line's first words."""
    by_name = {vnames[v.name]: v for v in variables}
    cons = {new: old for old, new in cnames.items()}
    for v in variables:
        v.varValue = 0.0
    with open(path, encoding="utf-8", errors="replace") as f:
        head = f.readline().strip()
        for line in f:
            parts = line.split()
            if len(parts) < 4:
                continue
            if parts[0] == "**":
                parts = parts[1:]
            name, val, dual = parts[1], float(parts[2]), float(parts[3])
            if name in by_name:
                by_name[name].varValue = val
                by_name[name].dj = dual
            elif name in cons and cons[name] in prob.constraints:
                prob.constraints[cons[name]].pi = dual
    return head


#: Seconds CBC has to write its plan after the interrupt before it is killed; the
#: interrupt comes this much before the end of :func:`_watchdog_grace`, so the whole
#: call stays within it.
CBC_INTERRUPT_WAIT_S = 0.25


def _die_with_parent() -> Any:
    """A ``preexec_fn`` that makes the child receive SIGKILL when geoplan dies, even by
    SIGKILL (Linux ``prctl(PR_SET_PDEATHSIG)``); None where that does not exist.

    Why: a killed run must not leave CBC computing for minutes with no one to read its
    answer. Ctrl-C and SIGTERM already stop it (:meth:`_CbcRun.wait`); this covers the
    kills no handler sees. The parent is the thread that starts CBC, which waits for it
    in the same call, so the child never outlives a live caller.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes  # noqa: PLC0415

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl
        return None
    parent = os.getpid()

    def preexec() -> None:               # runs in the child, between fork and exec
        prctl(1, signal.SIGKILL)         # PR_SET_PDEATHSIG
        if os.getppid() != parent:       # the parent died before prctl took effect
            os._exit(1)

    return preexec


class _CbcRun:
    """One CBC child process: started, its log read, stopped at a deadline (private)."""

    def __init__(self, args: list[str], *, echo: bool) -> None:
        self.lines: list[str] = []
        self.echo = echo
        self.interrupted = False
        self.killed = False
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True, errors="replace",
                                     start_new_session=os.name != "nt",
                                     preexec_fn=_die_with_parent())
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if self.echo:                  # shown: not logged a second time
                sys.stdout.write(line)
            else:
                log.debug("cbc: %s", line.rstrip())

    def wait(self, deadline: float | None) -> int:
        """Wait for CBC; past ``deadline`` interrupt it, then kill it
        :data:`CBC_INTERRUPT_WAIT_S` later."""
        try:
            if deadline is None:
                return self.proc.wait()
            try:
                return self.proc.wait(timeout=max(deadline - time.perf_counter(), 0.0))
            except subprocess.TimeoutExpired:
                pass
            self.interrupted = True
            log.debug("CBC ran past its time limit: interrupting it")
            if os.name == "nt":  # pragma: no cover
                self.proc.terminate()
            else:
                self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(timeout=CBC_INTERRUPT_WAIT_S)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.proc.kill()
                return self.proc.wait()
        finally:
            if self.proc.poll() is None:         # an exception (e.g. Ctrl-C) in the wait
                self.killed = True
                self.proc.kill()
                self.proc.wait()
            self.reader.join(timeout=5)

    @property
    def text(self) -> str:
        return "".join(self.lines)


#: Longest CBC run with its preprocessing on, used only to find a starting plan (see
#: :func:`_solve_cbc`); with a time limit it gets a third of the time left, at most this.
CBC_HEURISTIC_MAX_S = 30.0
#: Shortest time left for which that preprocessed run is tried (below it, all the time
#: goes to the run that proves).
CBC_HEURISTIC_MIN_S = 3.0


def _solve_cbc(prob: pulp.LpProblem, cfg: _Config, warm_start: bool) -> SolveInfo:
    """CBC in two runs: a plan from the preprocessed search, the proof from a plain one.

    Why: CBC 2.10's preprocessing finds good plans fast (set covering 10,000 x 500: the
    optimum 79 in 3 s, where the search without it has 80 after 60 s) but its
    "optimal" is not a proof (22 for 19 on a small beds model). So a MIP without a start
    plan of the caller's and with at least :data:`CBC_HEURISTIC_MIN_S` seconds to run is
    first solved with preprocessing for at most a third of the time left
    (:data:`CBC_HEURISTIC_MAX_S`; a caller's start, e.g. maximal covering's local search,
    makes that run redundant and its second model read cost the time limit); its plan, checked
    against every constraint, bound and integrality here, only starts the second run,
    which has preprocessing off and whose status and bound are reported.
    """
    t0 = time.perf_counter()
    if not cfg.path or not os.path.exists(cfg.path):
        raise SolverError(f"the CBC executable was not found at {cfg.path!r}")
    with tempfile.TemporaryDirectory(prefix="geoplan-cbc-") as tmp:
        mps = os.path.join(tmp, "model.mps")
        model = _CbcModel(tmp, mps, *prob.writeMPS(mps, rename=1)[:3])
        mip = any(v.cat == pulp.LpInteger for v in model.variables)
        left = None if cfg.time_limit is None else cfg.time_limit - (time.perf_counter() - t0)
        has_start = warm_start and any(v.varValue is not None for v in model.variables)
        if mip and not has_start and (left is None or left >= CBC_HEURISTIC_MIN_S):
            share = CBC_HEURISTIC_MAX_S if left is None else min(CBC_HEURISTIC_MAX_S,
                                                                 left / 3.0)
            warm_start = _cbc_start_plan(prob, model, cfg, share)
        left = None if cfg.time_limit is None else max(
            cfg.time_limit - (time.perf_counter() - t0), 0.01)
        info = _cbc_run(prob, model, replace(cfg, time_limit=left), warm_start, mip,
                        preprocess=False)
    return replace(info, solve_s=time.perf_counter() - t0)


class _CbcModel(NamedTuple):
    """A model written for CBC (private): its folder, MPS file and PuLP's renaming."""

    folder: str
    mps: str
    variables: list[pulp.LpVariable]
    vnames: dict[str, str]
    cnames: dict[str, str]


def _plan_is_feasible(prob: pulp.LpProblem, variables: list[pulp.LpVariable],
                      tol: float = 1e-6) -> bool:
    """Whether the variables' values satisfy every bound, integrality and constraint.

    PuLP's own checks (``LpVariable.valid``, ``LpConstraint.valid``), with NaN values
    rejected first and each constraint's tolerance scaled to its right-hand side.
    """
    if not all(v.varValue is not None and math.isfinite(v.varValue) and v.valid(tol)
               for v in variables):
        return False
    return all(c.valid(tol * max(1.0, abs(c.constant or 0.0)))
               for c in prob.constraints.values())


def _cbc_start_plan(prob: pulp.LpProblem, model: _CbcModel, cfg: _Config,
                    seconds: float) -> bool:
    """Set the variables to the preprocessed CBC run's plan when it passes the check.

    Run only without a start of the caller's (see :func:`_solve_cbc`). Returns whether
    the variables now hold that plan; otherwise their values are left as they were.
    """
    before = [v.varValue for v in model.variables]
    try:
        res = _cbc_run(prob, model, replace(cfg, time_limit=seconds, msg=False, gap=None),
                       False, True, preprocess=True)
    except SolverError as e:                        # a crash here only loses the start
        log.debug("CBC's preprocessed run failed (%s); no start plan from it", e)
        res = None
    if res is not None and math.isfinite(res.objective):
        if _plan_is_feasible(prob, model.variables):
            log.debug("CBC with preprocessing found a start plan of value %s", res.objective)
            return True
        log.debug("CBC's preprocessed plan failed the feasibility check; not used")
    for v, x in zip(model.variables, before, strict=True):
        v.varValue = x
    return False


def _cbc_run(prob: pulp.LpProblem, model: _CbcModel, cfg: _Config, warm_start: bool,
             mip: bool, *, preprocess: bool) -> SolveInfo:
    """One CBC child process on the model written by :func:`_solve_cbc` (private)."""
    t0 = time.perf_counter()
    tmp, mps, variables, vnames, cnames = model
    tag = "pre" if preprocess else "run"
    sol, mst = (os.path.join(tmp, f"{tag}.{f}") for f in ("sol", "mst"))
    if os.path.exists(sol):
        os.remove(sol)
    args = [cfg.path, mps]
    if prob.sense == pulp.LpMaximize:
        args.append("-max")
    if warm_start and mip and any(v.varValue is not None for v in variables):
        _write_mip_start(mst, variables, vnames)
        args += ["-mips", mst]
    if cfg.time_limit is not None:
        # CBC's clock starts after the model file is written: give it what is left
        left = max(cfg.time_limit - (time.perf_counter() - t0), 0.01)
        args += ["-sec", f"{left:.3f}"]
    args += ["-timeMode", "elapsed", "-preprocess", "on" if preprocess else "off"]
    if cfg.threads is not None:
        args += ["-threads", str(int(cfg.threads))]
    if cfg.gap is not None:
        args += ["-ratio", repr(float(cfg.gap))]
    args += ["-solve" if mip else "-initialSolve", "-printingOptions", "all",
             "-solution", sol]
    run = _CbcRun(args, echo=cfg.msg)
    deadline = None if cfg.time_limit is None else (
        t0 + cfg.time_limit + _watchdog_grace(cfg.time_limit) - CBC_INTERRUPT_WAIT_S)
    rc = run.wait(deadline)
    solve_s = time.perf_counter() - t0
    info = _parse_cbc_log(run.text)
    name = f"CBC {info['version']}" if "version" in info else "CBC"
    head = ""
    if os.path.exists(sol) and os.path.getsize(sol) > 0 and not run.killed:
        try:
            head = _read_cbc_solution(sol, prob, variables, vnames, cnames)
        except (OSError, ValueError, IndexError):
            head = ""
    elif rc != 0 and not run.interrupted:
        tail = "".join(run.lines[-5:]).strip()
        if rc < 0 and not preprocess and importlib.util.find_spec("highspy") is not None:
            # CBC 2.10.3 crashed (a signal, e.g. a segmentation fault seen on a small
            # function-centres model): answer with HiGHS in the time left, and say so
            log.warning("CBC crashed (signal %d); solving %s with HiGHS instead",
                        -rc, prob.name)
            left = None if cfg.time_limit is None else max(
                cfg.time_limit - (time.perf_counter() - t0), 0.01)
            info = _solve_highs(prob, replace(cfg, kind="highs", time_limit=left),
                                warm_start)
            return replace(info, solver=f"{info.solver} (CBC crashed)",
                           solve_s=time.perf_counter() - t0)
        raise SolverError(f"CBC failed (exit status {rc}): {tail}")
    return _cbc_info(prob, head, info, run.interrupted, name, solve_s, mip, run.text,
                     cfg.time_limit is not None)


def _cbc_proved_infeasible(result: str, log_text: str, interrupted: bool,
                           limited: bool) -> bool:
    """Whether CBC's "infeasible" is a proof, not a stop.

    Why: CBC 2.10 writes "Integer infeasible" also when it merely stopped, and its
    preprocessing, cut short by a time limit, reported a feasible covering model as
    "Pre-processing says infeasible" (found by ``tests/test_opt_stress.py``). A proof is
    the search's own result ("Problem proven infeasible"), an infeasible LP relaxation,
    or preprocessing's verdict on a run without a time limit.
    """
    if interrupted:
        return False
    if "infeasible" in result.lower():
        return True
    if re.search(r"^Problem is infeasible", log_text, re.M):
        return True
    return not limited and "Pre-processing says infeasible" in log_text


def _cbc_info(prob: pulp.LpProblem, head: str, info: dict[str, Any], interrupted: bool,
              name: str, solve_s: float, mip: bool, log_text: str = "",
              limited: bool = False) -> SolveInfo:
    """Status, objective and proven bound from CBC's solution file and log."""
    maximize = prob.sense == pulp.LpMaximize
    word = head.split()[0] if head else ""
    has_sol = word == "Optimal" or (word == "Stopped" and "objective" in head.split()[:5])
    obj = math.nan
    if has_sol:
        val = pulp.value(prob.objective)
        obj = float(val) if val is not None else 0.0
    # CBC's figures leave out the objective's constant, which pulp's value includes
    offset = float(prob.objective.constant) if prob.objective is not None else 0.0
    bound = math.nan
    result = info.get("result", "")
    if "bound" in info and math.isfinite(info["bound"]):
        bound = info["bound"] + offset
    elif "running" in info and math.isfinite(info["running"]) and abs(info["running"]) < 1e49:
        bound = (-info["running"] if maximize else info["running"]) + offset
    if word == "Optimal" and (not mip or result == "Optimal solution found"):
        st, bound = OPTIMAL, obj
    elif has_sol:
        st = OPTIMAL if proven(obj, bound) else FEASIBLE
    elif word in ("Infeasible", "Integer") and _cbc_proved_infeasible(
            result, log_text, interrupted, limited):
        st = INFEASIBLE
    elif word == "Unbounded":
        st = UNBOUNDED
    else:
        st = NOT_SOLVED
    if interrupted:
        name += " (stopped at the time limit)"
    return _finish(prob, st, obj, bound, name, solve_s)


# --------------------------------------------------------------------------- any solver


def _solve_pulp(prob: pulp.LpProblem, cfg: _Config) -> SolveInfo:
    """Any other PuLP solver: no bound is known, so "optimal" is PuLP's word without a gap."""
    t0 = time.perf_counter()
    s = cfg.pulp_solver
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            status = prob.solve(s)
    except pulp.PulpSolverError as exc:
        raise SolverError(f"the solver failed: {exc}") from None
    solve_s = time.perf_counter() - t0
    val = pulp.value(prob.objective)
    obj = float(val) if val is not None else math.nan
    sol_status = getattr(prob, "sol_status", None)
    if status == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionOptimal and not cfg.gap:
        st, bound = OPTIMAL, obj
    elif status == pulp.LpStatusOptimal or sol_status == pulp.LpSolutionIntegerFeasible:
        st, bound = FEASIBLE, math.nan
    elif status == pulp.LpStatusInfeasible:
        st, bound = INFEASIBLE, math.nan
    elif status == pulp.LpStatusUnbounded:
        st, bound = UNBOUNDED, math.nan
    else:
        st, bound = NOT_SOLVED, math.nan
    return _finish(prob, st, obj, bound, type(s).__name__, solve_s, assign=False)


def _finish(prob: pulp.LpProblem, st: str, obj: float, bound: float, name: str,
            solve_s: float, *, assign: bool = True) -> SolveInfo:
    """The :class:`SolveInfo` of a solve; PuLP's status fields set to match."""
    if st not in (OPTIMAL, FEASIBLE):
        obj = math.nan
        if st != NOT_SOLVED:
            bound = math.nan
    if st == OPTIMAL:
        bound = obj
    gap = 0.0 if st == OPTIMAL else _rel_gap(obj, bound)
    if assign:
        status = {OPTIMAL: pulp.LpStatusOptimal, FEASIBLE: pulp.LpStatusOptimal,
                  INFEASIBLE: pulp.LpStatusInfeasible, UNBOUNDED: pulp.LpStatusUnbounded
                  }.get(st, pulp.LpStatusNotSolved)
        sol_status = {OPTIMAL: pulp.LpSolutionOptimal,
                      FEASIBLE: pulp.LpSolutionIntegerFeasible,
                      INFEASIBLE: pulp.LpSolutionInfeasible,
                      UNBOUNDED: pulp.LpSolutionUnbounded
                      }.get(st, pulp.LpSolutionNoSolutionFound)
        prob.assignStatus(status, sol_status)
    out = SolveInfo(status=st, objective=obj, bound=bound, gap=gap, solver=name,
                    solve_s=solve_s)
    log.debug("%s: %s %s, objective %.10g, bound %.10g, %.3f s", prob.name, name, st, obj,
              bound, solve_s)
    return out


def solve(
    prob: pulp.LpProblem,
    solver: str | pulp.LpSolver | None = None,
    *,
    time_limit: float | None = None,
    gap: float | None = None,
    threads: int | None = 1,
    msg: bool = False,
    warm_start: bool = False,
) -> SolveInfo:
    """Solve ``prob`` and report status, objective, best bound and gap.

    The variables' values (``varValue``) and ``prob.status`` are set as
    ``prob.solve`` would; for an LP also the reduced costs (``dj``) and duals (``pi``).

    Parameters
    ----------
    prob
        A PuLP model.
    solver
        ``"cbc"``, ``"highs"``, None (:data:`DEFAULT_SOLVER`), or a PuLP solver object
        (its own time limit, gap, threads and log settings apply too; see
        :func:`configure`).
    time_limit
        Seconds before the solver stops and returns its best solution. geoplan stops a
        solver that runs past it (0.5 s + 2 % later).
    gap
        Relative gap at which the solver may stop (e.g. 0.01); the answer is then
        ``"time_limit"`` with its bound unless the gap left is within
        :data:`OPTIMAL_GAP`. Default: prove optimality.
    threads
        Solver threads (default 1: results and timings are reproducible).
    msg
        Show the solver's log on stdout.
    warm_start
        Pass the variables' initial values (``setInitialValue``) to the solver as a
        starting solution (CBC and HiGHS).

    Returns
    -------
    SolveInfo

    Raises
    ------
    GeoplanInputError
        For an unknown solver or invalid options.
    SolverError
        If the solver cannot run at all.
    """
    cfg = configure(solver, time_limit=time_limit, gap=gap, threads=threads, msg=msg)
    if not prob.variables():
        # nothing to decide (every choice was fixed by the reduction); solvers disagree
        # on how to report an empty model, so answer directly
        const = float(prob.objective.constant) if prob.objective is not None else 0.0
        ok = all(c.valid() for c in prob.constraints.values())
        return _finish(prob, OPTIMAL if ok else INFEASIBLE, const if ok else math.nan,
                       const, "(no variables)", 0.0)
    if cfg.kind == "highs":
        return _solve_highs(prob, cfg, warm_start)
    if cfg.kind == "cbc":
        return _solve_cbc(prob, cfg, warm_start)
    return _solve_pulp(prob, cfg)

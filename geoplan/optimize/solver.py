"""Solving a PuLP model and reading back status, objective, best bound and gap.

Why: every location model in geoplan reports the same facts about its solve - status,
objective, best bound, optimality gap, solver, time - whichever MILP solver ran. PuLP
gives the objective and a status but not the bound; this module gets the bound from
HiGHS's info record or from CBC's log, so a time-limited run says how far from optimal
its answer may be.

The default solver is :data:`DEFAULT_SOLVER` (:data:`MAX_COVERING_SOLVER` for maximal
covering), chosen by ``benchmarks/bench_optimize.py`` (single-threaded, on geoplan's
covering and p-median instances) and the demo scenarios.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pulp

from .._errors import GeoplanError, GeoplanInputError

#: Solver used when none is given: ``"cbc"`` or ``"highs"`` (see the module docstring).
DEFAULT_SOLVER = "cbc"

#: Solver of maximal covering when none is given. Measured with
#: ``benchmarks/bench_optimize.py --time-limit 60`` (2 cores, 2026-11-24): after geoplan's
#: local search, LP bound and fixing, HiGHS proves the 10,000 x 500 walking p = 50 instance
#: in 25.4 s and the e-bike p = 10 one in 55.2 s where CBC stops at 0.53 % and 0.62 % gaps
#: after 60 s; CBC is faster on set covering (2.3 s vs 11.7 s), on the demo's share-target
#: models and on OR-Library p-median, so it stays the general default.
MAX_COVERING_SOLVER = "highs"

#: Status strings of :class:`SolveInfo`.
OPTIMAL = "optimal"
FEASIBLE = "time_limit"          # stopped by a limit with a feasible (not proven) solution
INFEASIBLE = "infeasible"
UNBOUNDED = "unbounded"
NOT_SOLVED = "not_solved"        # stopped with no feasible solution, or solver error
#: Relative gap up to which a solver's "optimal" counts as proven (floating-point slack).
OPTIMAL_GAP = 1e-7


class SolverError(GeoplanError):
    """The solver failed or is not available."""


@dataclass(frozen=True)
class SolveInfo:
    """What a solve produced, independent of the solver.

    Attributes
    ----------
    status
        ``"optimal"``; ``"time_limit"`` (stopped by the time or gap limit with a feasible
        solution that is not proven optimal); ``"infeasible"``; ``"unbounded"``;
        ``"not_solved"`` (no feasible solution found, or a solver error).
    objective
        Objective value of the solution returned (NaN without one).
    bound
        Best bound proven by the solver (a lower bound when minimising, an upper bound
        when maximising); equals ``objective`` when proven optimal with no gap, NaN if
        unknown.
    gap
        Relative optimality gap ``|objective - bound| / max(|objective|, 1e-9)``; 0 when
        proven optimal, NaN if unknown.
    solver
        Solver name, e.g. ``"CBC 2.10"`` or ``"HiGHS 1.16"``.
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


def _highs_version() -> str:
    try:
        from importlib.metadata import version
        return f"HiGHS {version('highspy')}"
    except Exception:  # pragma: no cover - highspy missing
        return "HiGHS"


def make_solver(
    solver: str | pulp.LpSolver | None = None,
    *,
    time_limit: float | None = None,
    gap: float | None = None,
    threads: int | None = 1,
    msg: bool = False,
) -> pulp.LpSolver:
    """Return a configured PuLP solver.

    Parameters
    ----------
    solver
        ``"cbc"``, ``"highs"``, None (:data:`DEFAULT_SOLVER`), or any PuLP solver object
        (used as given; the other options are then ignored).
    time_limit
        Seconds before the solver stops and returns its best solution.
    gap
        Relative gap at which the solver may stop (e.g. 0.01); default: prove optimality
        (the solver's own default tolerance, 1e-4 for CBC and HiGHS... see their docs).
    threads
        Solver threads (default 1: results and timings are reproducible).
    msg
        Show the solver's log.

    Returns
    -------
    pulp.LpSolver

    Raises
    ------
    GeoplanInputError
        For an unknown solver name or invalid limits.
    """
    if isinstance(solver, pulp.LpSolver):
        return solver
    name = (solver or DEFAULT_SOLVER).lower()
    if time_limit is not None and not (time_limit > 0):
        raise GeoplanInputError(f"time_limit must be positive, got {time_limit!r}",
                                field="time_limit")
    if gap is not None and not (0 <= gap < 1):
        raise GeoplanInputError(f"gap must be in [0, 1), got {gap!r}", field="gap")
    if name in ("cbc", "pulp_cbc_cmd", "coin"):
        # pulp 3.3 deprecates its bundled CBC in favour of a separate package for pulp 4;
        # the bundled CBC 2.10 is what pulp installs today, so use it and keep the
        # deprecation out of users' output.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(msg=msg, timeLimit=time_limit, gapRel=gap,
                                     threads=threads)
    if name in ("highs", "highspy"):
        # HiGHS stops at a 0.01 % gap by default; geoplan's default is a proof
        s = pulp.HiGHS(msg=msg, timeLimit=time_limit, gapRel=0.0 if gap is None else gap,
                       threads=threads)
        if not s.available():
            raise GeoplanInputError("the HiGHS solver is not available", field="solver",
                                    hint="pip install highspy, or use solver='cbc'")
        return s
    raise GeoplanInputError(f"unknown solver {solver!r}", field="solver",
                            hint="use 'cbc', 'highs' or a pulp solver object")


_CBC_NUM = r"(-?[0-9.eE+-]+|inf|-inf|nan)"


def _parse_cbc_log(text: str) -> dict[str, Any]:
    """Result line, objective, lower bound and gap from a CBC log."""
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
    m = re.search(r"Version:\s*([0-9.]+)", text)
    if m:
        out["version"] = m.group(1)
    return out


@contextlib.contextmanager
def _quiet(active: bool) -> Iterator[None]:
    """Silence a solver library writing to the process's stdout (HiGHS's banner)."""
    if not active:
        yield
        return
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):      # no real stdout (e.g. captured): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


class _Watchdog:
    fired = False


@contextlib.contextmanager
def _cbc_deadline(limit: float | None, grace: float | None = None) -> Iterator[_Watchdog]:
    """Stop CBC when it overruns its time limit.

    Why: CBC checks its limit during branch and bound but not inside the root LP; on
    the 50,000 x 1,000 covering benchmark a 60 s limit took 187 s. Past ``limit`` plus a
    grace (10 % of the limit, at least 5 s) CBC is interrupted like Ctrl-C and killed if
    it still runs after another grace. CBC 2.10 exits without a solution file then, so
    the solve reports ``not_solved``; maximal covering still returns its local-search
    plan with the LP bound.
    pulp starts CBC with ``subprocess.Popen``; the module it looks that up in is swapped
    for a proxy for the duration of the solve only.
    """
    dog = _Watchdog()
    if limit is None:
        yield dog
        return
    import signal
    import subprocess
    import threading

    from pulp.apis import coin_api

    wait = float(limit) + (grace if grace is not None else max(5.0, 0.1 * float(limit)))
    timers: list[threading.Timer] = []
    real = coin_api.subprocess

    def arm(proc: subprocess.Popen) -> None:
        def interrupt() -> None:
            if proc.poll() is None:
                dog.fired = True
                if os.name == "nt":
                    proc.terminate()
                else:
                    proc.send_signal(signal.SIGINT)
                kill = threading.Timer(wait - float(limit), lambda: proc.poll() is None
                                       and proc.kill())
                kill.daemon = True
                kill.start()
                timers.append(kill)
        t = threading.Timer(wait, interrupt)
        t.daemon = True
        t.start()
        timers.append(t)

    class _Proxy:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        @staticmethod
        def Popen(*args: Any, **kwargs: Any) -> subprocess.Popen:  # noqa: N802
            proc = real.Popen(*args, **kwargs)
            arm(proc)
            return proc

    coin_api.subprocess = _Proxy()             # type: ignore[assignment]
    try:
        yield dog
    finally:
        coin_api.subprocess = real
        for t in timers:
            t.cancel()


def _highs_start(s: pulp.HiGHS) -> None:
    """Hand HiGHS the variables' initial values as a MIP start.

    Why: pulp passes starts to CBC only. HiGHS accepts a partial start
    (``setSolution`` with the given entries) and completes the rest itself; the start
    is set after pulp builds the model (columns in ``prob.variables()`` order) and
    before it runs.
    """
    def call(lp: pulp.LpProblem) -> None:
        h = lp.solverModel
        given = [(v.index, float(v.varValue)) for v in lp.variables()
                 if v.varValue is not None and getattr(v, "index", None) is not None]
        if given and hasattr(h, "setSolution"):
            idx, val = zip(*given, strict=True)
            try:
                h.setSolution(len(idx), np.asarray(idx, np.int32), np.asarray(val, float))
            except TypeError:                  # older highspy: dense solutions only
                pass
        h.run()

    s.callSolver = call                        # type: ignore[method-assign]


def _reset_highs_threads() -> None:
    """Let this solve pick its own thread count.

    Why: HiGHS keeps one thread scheduler per process; once any earlier HiGHS run (the
    user's own, or a notebook's) started it with another thread count, a solve asking
    for ``threads=1`` stops at once with "not solved". Resetting the scheduler is cheap.
    """
    import highspy

    reset = getattr(highspy.Highs, "resetGlobalScheduler", None)
    if reset is not None:
        reset(True)


def _rel_gap(obj: float, bound: float) -> float:
    if not (math.isfinite(obj) and math.isfinite(bound)):
        return math.nan
    g = abs(obj - bound) / max(abs(obj), 1e-9)
    return 0.0 if g < 1e-9 else g


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

    Parameters
    ----------
    prob
        A PuLP model.
    solver, time_limit, gap, threads, msg
        See :func:`make_solver`.
    warm_start
        Pass the variables' initial values (``setInitialValue``) to the solver as a
        starting solution (CBC and HiGHS; other solvers ignore it). A solver object you
        pass in is left as it was.

    Returns
    -------
    SolveInfo

    Raises
    ------
    SolverError
        If the solver cannot run at all.
    """
    s = make_solver(solver, time_limit=time_limit, gap=gap, threads=threads, msg=msg)
    if not prob.variables():
        # nothing to decide (every choice was fixed by the reduction); solvers disagree
        # on how to report an empty model, so answer directly
        const = float(prob.objective.constant) if prob.objective is not None else 0.0
        ok = all(c.valid() for c in prob.constraints.values())
        return SolveInfo(status=OPTIMAL if ok else INFEASIBLE,
                         objective=const if ok else math.nan,
                         bound=const if ok else math.nan, gap=0.0 if ok else math.nan,
                         solver="(no variables)", solve_s=0.0)
    is_cbc = isinstance(s, pulp.PULP_CBC_CMD)
    set_warm = warm_start and is_cbc and not s.optionsDict.get("warmStart")
    if set_warm:
        s.optionsDict["warmStart"] = True
    log_path = None
    if is_cbc and not s.optionsDict.get("logPath"):
        fd, log_path = tempfile.mkstemp(prefix="geoplan-cbc-", suffix=".log")
        os.close(fd)
        s.optionsDict["logPath"] = log_path
        s.msg = False
    if isinstance(s, pulp.HiGHS):
        _reset_highs_threads()
        if warm_start:
            _highs_start(s)
    t0 = time.perf_counter()
    watchdog = _Watchdog()
    try:
        limit = s.timeLimit if is_cbc else None
        with warnings.catch_warnings(), _quiet(not msg and not is_cbc), \
                _cbc_deadline(limit) as watchdog:
            warnings.simplefilter("ignore", DeprecationWarning)
            status = prob.solve(s)
    except pulp.PulpSolverError as exc:
        if watchdog.fired:
            # CBC ignored its limit (it does inside the root LP of very large models)
            # and was stopped with no solution it could write
            return SolveInfo(status=NOT_SOLVED, objective=math.nan, bound=math.nan,
                             gap=math.nan, solver="CBC (stopped at the time limit)",
                             solve_s=time.perf_counter() - t0)
        raise SolverError(f"the solver failed: {exc}") from None
    finally:
        solve_s = time.perf_counter() - t0
        if set_warm:
            s.optionsDict.pop("warmStart", None)
        if "callSolver" in vars(s):           # the HiGHS start hook of this call
            del s.callSolver
    sense = prob.sense
    obj = pulp.value(prob.objective)
    obj = float(obj) if obj is not None else math.nan
    sol_status = getattr(prob, "sol_status", None)
    bound = math.nan
    name = "CBC" if is_cbc else type(s).__name__
    if is_cbc:
        text = ""
        if log_path:
            try:
                with open(log_path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
            finally:
                os.unlink(log_path)
                s.optionsDict.pop("logPath", None)
        info = _parse_cbc_log(text)
        name = f"CBC {info['version']}" if "version" in info else "CBC"
        result = info.get("result", "")
        stopped = "Stopped" in result or sol_status == pulp.LpSolutionIntegerFeasible
        if status == pulp.LpStatusOptimal and not stopped:
            st, bound = OPTIMAL, obj
        elif status == pulp.LpStatusOptimal or (
                sol_status == pulp.LpSolutionIntegerFeasible):
            st = FEASIBLE
            # "Lower bound" when minimising, "Upper bound" when maximising; CBC's figures
            # may leave out the objective's constant, which pulp's objective value includes
            offset = obj - info["objective"] if "objective" in info else 0.0
            bound = info.get("bound", math.nan) + offset
        elif status == pulp.LpStatusInfeasible:
            st = INFEASIBLE
        elif status == pulp.LpStatusUnbounded:
            st = UNBOUNDED
        else:
            st = NOT_SOLVED
    else:
        name = _highs_version() if isinstance(s, pulp.HiGHS) else name
        model_status = None
        if isinstance(s, pulp.HiGHS) and getattr(prob, "solverModel", None) is not None:
            h = prob.solverModel
            model_status = h.getModelStatus()
            hinfo = h.getInfo()
            b = getattr(hinfo, "mip_dual_bound", math.nan)
            # pulp hands HiGHS the negated objective when maximising, without its constant
            offset = float(prob.objective.constant) if prob.objective is not None else 0.0
            if b is not None and math.isfinite(b):
                bound = (-float(b) if sense == pulp.LpMaximize else float(b)) + offset
            else:
                bound = obj
        if status == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionOptimal:
            st = OPTIMAL
        elif status == pulp.LpStatusOptimal or sol_status == pulp.LpSolutionIntegerFeasible:
            st = FEASIBLE
        elif status == pulp.LpStatusInfeasible:
            st = INFEASIBLE
        elif status == pulp.LpStatusUnbounded:
            st = UNBOUNDED
        else:
            st = NOT_SOLVED
        if model_status is not None and st == OPTIMAL:
            import highspy
            if model_status != highspy.HighsModelStatus.kOptimal:
                st = FEASIBLE
    if st not in (OPTIMAL, FEASIBLE):
        obj, bound = math.nan, math.nan
    g = 0.0 if st == OPTIMAL and not math.isfinite(bound) else _rel_gap(obj, bound)
    if st == OPTIMAL and g > OPTIMAL_GAP:
        st = FEASIBLE          # stopped by a gap option: a good plan, not a proof
    if st == OPTIMAL and not math.isfinite(bound):
        bound = obj
    return SolveInfo(status=st, objective=obj, bound=bound, gap=g, solver=name,
                     solve_s=solve_s)

"""Hunt false "optimal" answers, invalid bounds and broken time limits - on a loaded machine.

Why: geoplan once returned a time-limited maximal covering as "optimal" 4.9 % below the
true optimum (4,000 points x 150 sites, radius 0.2, ``time_limit=0.45``), more often
when the machine was busy; CBC stopping "within gap tolerance" was reported optimal with
gap 0; models handed the full time limit to each of many sub-solves. Every answer here
is checked against an exact optimum computed without geoplan (brute force or our own
unreduced MILP, see ``tests/stress_cases.py``) by the rules of
:func:`stress_cases.check`, for both solvers, time limits from 2 ms up and gap stops,
while busy processes compete for the CPU. Examples are derandomised (reproducible in
CI); ``benchmarks/bench_soak.py`` runs the same checks on random seeds for minutes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from stress_cases import (
    GAPS,
    MODELS,
    SOLVERS,
    TIME_LIMITS,
    Outcome,
    Violation,
    busy_load,
    check,
    cross_check,
    gen_case,
    issue_case,
    run_and_check,
)

#: The bug report's instances: seed 11 answered "optimal" 140,259 (and 142,245) for an
#: optimum of 147,518 at time limits 0.35-1 s; seed 8 stops at its limits.
ISSUE_SEEDS = (11, 8)
#: Time limits of the bug report's range.
ISSUE_LIMITS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

#: Reproducible examples; no shrinking (a smaller seed is not a simpler instance, and
#: every shrink step would solve a new instance and its oracle).
_SETTINGS: dict[str, Any] = {"deadline": None, "derandomize": True, "database": None,
                             "phases": (Phase.explicit, Phase.generate),
                             "report_multiple_bugs": True,
                             "suppress_health_check": [HealthCheck.too_slow]}


@pytest.fixture(scope="module")
def load() -> Iterator[list[Any]]:
    """Two processes spinning in a tight loop while this module's tests solve."""
    with busy_load(2) as procs:
        yield procs
        alive = [p.is_alive() for p in procs]
    assert all(alive), f"a busy worker died during the tests: {alive}"


def _assert_honest(violations: list[Violation]) -> None:
    assert not violations, "\n".join(v.message for v in violations)


@pytest.mark.parametrize("model", MODELS)
def test_the_two_oracles_agree(model: str) -> None:
    """Brute force and the unreduced MILP give the same optima (the oracle's own check)."""
    # first in the module: it needs no load, and runs before the `load` fixture's busy
    # processes start (they spin until the module's last test)
    for seed in range(12):
        brute, exact = cross_check(model, seed)
        assert len(brute) == len(exact), (model, seed)
        for b, m in zip(brute, exact, strict=True):
            same = (b is None and m is None) or (
                b is not None and m is not None and math.isclose(b, m, rel_tol=1e-9,
                                                                 abs_tol=1e-6))
            assert same, f"cross_check({model!r}, {seed}): brute force {b!r}, MILP {m!r}"


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=12, **_SETTINGS)
@given(seed=st.integers(0, 2**31 - 1),
       size=st.sampled_from(("small", "small", "mid", "large")),
       solver=st.sampled_from(SOLVERS), time_limit=st.sampled_from(TIME_LIMITS),
       gap=st.sampled_from(GAPS))
def test_answers_keep_the_rules(load: list[Any], model: str, seed: int, size: str,
                                solver: str, time_limit: float | None,
                                gap: float | None) -> None:
    """Status, objective, bound, gap and wall time agree with the exact optimum."""
    # a large function-centre case's enumeration oracle alone takes tens of seconds;
    # benchmarks/bench_time_limits.py and the stress soak cover that size
    assume(not (model == "function_centres" and size == "large"))
    _assert_honest(run_and_check(gen_case(model, seed, size), solver, time_limit, gap))


@pytest.mark.parametrize("model", [m for m in MODELS if m != "p_center"])
@settings(max_examples=3, **_SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), size=st.sampled_from(("mid", "large")),
       solver=st.sampled_from(SOLVERS), gap=st.sampled_from((0.01, 0.05, 0.2)))
def test_gap_stop_is_never_called_optimal(load: list[Any], model: str, seed: int, size: str,
                                          solver: str, gap: float) -> None:
    """A solve allowed to stop at a relative gap is "optimal" only at the optimum."""
    _assert_honest(run_and_check(gen_case(model, seed, size), solver, None, gap))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", ISSUE_SEEDS)
@settings(max_examples=3, **_SETTINGS)
@given(time_limit=st.sampled_from(ISSUE_LIMITS))
def test_issue_class_under_time_limits(load: list[Any], seed: int, solver: str,
                                       time_limit: float) -> None:
    """4,000 x 150, radius 0.2, p = 6: the optimum once per session, many limits."""
    _assert_honest(run_and_check(issue_case(seed), solver, time_limit, None))


#: Runs that broke a rule at the commit of the bug report (d694568) or later; each
#: must keep the rules now. (model, seed, size, solver, time limit, gap).
KNOWN_TRAPS = [
    ("beds", 163, "large", "cbc", None, 0.2),                  # gap stop called optimal
    ("beds", 1193, "mid", "cbc", 0.2, 0.2),                    # gap stop called optimal
    ("tradeoff", 1440510676, "large", "highs", 0.05, None),    # bound below the optimum
    ("tradeoff", 1763305455, "mid", "highs", 0.002, 0.2),      # bound 0 below the optimum
    ("tradeoff", 0, "large", "highs", 0.01, 0.2),              # bound below the optimum
]


@pytest.mark.parametrize(("model", "seed", "size", "solver", "time_limit", "gap"),
                         KNOWN_TRAPS)
def test_known_traps(load: list[Any], model: str, seed: int, size: str, solver: str,
                     time_limit: float | None, gap: float | None) -> None:
    """Instances that caught geoplan before keep the rules."""
    _assert_honest(run_and_check(gen_case(model, seed, size), solver, time_limit, gap))


@pytest.mark.parametrize("time_limit", [0.002, 0.01])
def test_tiny_limits_never_claim_infeasible(load: list[Any], time_limit: float) -> None:
    """A 2-10 ms CBC stop is "not_solved", never "infeasible", for a feasible target.

    Under load 10-40 % of such runs answered "infeasible" on this instance at d0897cf
    (CBC writes "Integer infeasible" when its time runs out before any integer
    solution), so it is repeated.
    """
    case = gen_case("set_covering", 1767, "large")
    found: list[Violation] = []
    for _ in range(10):
        found += run_and_check(case, "cbc", time_limit, None)
    _assert_honest(found)


def test_the_rules_catch_each_kind() -> None:
    """The checks themselves: every kind of broken answer is reported as such."""
    case = gen_case("max_covering", 0, "small")
    opt = case.optima[0]
    assert opt is not None and opt > 0

    def kinds(status: str, obj: float, bound: float, gap: float, value: float | None = None,
              time_limit: float | None = 1.0, elapsed: float = 0.1) -> set[str]:
        out = Outcome(status, obj, bound, gap, obj if value is None else value, None)
        return {v.kind for v in check(case, [out], elapsed, "highs", time_limit, None)}

    assert kinds("optimal", opt, opt, 0.0) == set()
    assert kinds("time_limit", opt - 1, opt + 1, 2 / (opt - 1)) == set()
    assert kinds("optimal", opt - 1, opt - 1, 0.0) == {"false_optimal", "invalid_bound"}
    assert kinds("time_limit", opt + 1, opt + 1, 0.0) == {"wrong_objective"}
    assert kinds("time_limit", opt - 1, opt - 2, 1 / (opt - 1)) == {"invalid_bound"}
    assert kinds("time_limit", opt - 1, opt + 1, 0.0) == {"bad_gap"}
    assert kinds("time_limit", opt - 1, math.nan, math.nan, value=opt - 2) == {
        "wrong_objective"}
    assert kinds("infeasible", math.nan, math.nan, math.nan) == {"bad_status"}
    assert kinds("not_solved", math.nan, math.nan, math.nan) == set()
    assert kinds("not_solved", math.nan, math.nan, math.nan, time_limit=None) == {
        "bad_status"}
    assert kinds("optimal", opt, opt, 0.0, elapsed=2.2) == {"overrun"}

"""The trade-off curve: every point optimal (equal to a fresh solve) and monotone."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_sf
from scipy import sparse

from geoplan.optimize.covering import max_covering
from geoplan.optimize.tradeoff import tradeoff_curve


def _spatial(seed, n=800, m=40, r=0.18):
    rng = np.random.default_rng(seed)
    d, s = rng.random((n, 2)), rng.random((m, 2))
    C = sparse.csr_matrix(np.hypot(*(d[:, None] - s[None]).transpose(2, 0, 1)) < r)
    return C, rng.integers(1, 50, n).astype(float)


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_each_point_equals_a_fresh_solve_and_curve_is_monotone(solver):
    C, w = _spatial(1)
    curve, plans = tradeoff_curve(C, w, 6, existing=[0, 5], solver=solver)
    assert list(curve["p"]) == list(range(7))
    assert (np.diff(curve["covered"]) >= -1e-9).all()
    assert (curve["gain"].iloc[1:] >= -1e-9).all()
    for p in (1, 3, 6):
        fresh = max_covering(C, w, p=p, existing=[0, 5], solver="cbc")
        assert curve.loc[p, "covered"] == pytest.approx(fresh.objective)
        assert plans[p].n_new <= p
    assert curve.loc[0, "covered"] == pytest.approx(plans[0].covered_before)


def test_curve_stops_solving_when_everyone_is_covered():
    C = sparse.csr_matrix(np.eye(3, dtype=bool))
    curve, plans = tradeoff_curve(C, [1.0, 2.0, 3.0], 5)
    assert list(curve["covered"]) == [0, 3, 5, 6, 6, 6]
    assert plans[5].solver.startswith("(not run")


def test_sf_curve_reaches_the_known_p4_optimum():
    dist, pop, _ = load_sf()
    curve, _ = tradeoff_curve(dist <= 5000, pop, 5)
    assert curve.loc[4, "covered"] == pytest.approx(875_247)


def test_a_clock_that_runs_out_after_the_check_still_gives_a_plan(monkeypatch):
    # CI saw it: the time limit ran out between the `expired()` check and the solve,
    # and the solver was refused `time_limit=0.0`. Every point must still carry a plan.
    from geoplan.optimize import solver as solver_mod

    monkeypatch.setattr(solver_mod.Deadline, "expired", lambda self, margin=0.0: False)
    C, w = _spatial(2)
    curve, plans = tradeoff_curve(C, w, 3, time_limit=1e-6)
    assert list(curve["p"]) == [0, 1, 2, 3]
    assert all(p.feasible for p in plans[1:])
    assert (np.diff(curve["covered"]) >= -1e-9).all()
    assert all(s in ("optimal", "time_limit", "feasible") for s in curve["status"])


def test_solver_limit_is_never_zero():
    from geoplan.optimize.solver import Deadline

    assert Deadline(None).solver_limit() is None
    assert Deadline(1e-9).solver_limit() == pytest.approx(0.01)
    assert 0.01 <= Deadline(60).solver_limit() <= 60

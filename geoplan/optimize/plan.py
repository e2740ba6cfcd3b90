"""The one result type of every location model: :class:`Plan`.

Why: planners compare scenarios solved by different models; each answer carries the
same facts - which sites open (and beds added), how good the answer is (objective,
best bound, optimality gap, status), how long it took, and population-weighted coverage
before and after, overall and per admin unit - so reports and maps need one code path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .solver import FEASIBLE, OPTIMAL, SolveInfo


@dataclass
class Reduction:
    """How much exact pre-solve reduction shrank a model.

    Attributes
    ----------
    demand_in, demand_out
        Demand rows before and after merging rows with identical coverage sets (and
        dropping rows no candidate can serve, whose weight is constant).
    candidates_in, candidates_out
        Candidate columns before and after dropping provably dominated ones.
    notes
        Human-readable remarks (what was dropped and why).
    """

    demand_in: int
    demand_out: int
    candidates_in: int
    candidates_out: int
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"demand {self.demand_in:,} -> {self.demand_out:,}, "
                f"candidates {self.candidates_in:,} -> {self.candidates_out:,}")


@dataclass
class Plan:
    """The answer of a location model.

    Attributes
    ----------
    model
        Model name, e.g. ``"set_covering"``, ``"max_covering"``, ``"p_median"``.
    selected
        Indices (into the model's candidate list) of the **new** sites chosen, sorted.
    existing
        Indices of the facilities that were fixed open (existing), sorted. In the numeric
        front door these index the same column space as ``selected`` (existing sites are
        columns of the matrix); see each model's docstring.
    status
        ``"optimal"``, ``"time_limit"`` (feasible, not proven optimal: see ``gap``),
        ``"infeasible"``, ``"unbounded"`` or ``"not_solved"``.
    objective, bound, gap
        Objective value, best proven bound, relative optimality gap.
    solver
        Solver name and version.
    build_s, solve_s
        Model build and solve wall time in seconds.
    covered_before, covered_after
        Population (demand weight) covered before (existing only) and after the plan;
        NaN where the model has no coverage notion.
    total_demand
        Total demand weight of the instance.
    beds_added
        Beds added per site (index: site index or id) for bed models, else None.
    assignment
        Demand index -> site index (column) for assignment models, else None.
    by_unit
        Per admin unit: ``population, covered_before, covered_after, share_before,
        share_after`` (GIS front door), else None.
    sites
        GeoDataFrame of chosen and existing sites (GIS front door), else None.
    reduction
        The exact pre-solve reduction applied, if any.
    explanation
        Why a target cannot be met (infeasible models), else None.
    details
        Model-specific extras (e.g. per-type coverage, the time standard used).
    problem
        The PuLP model of the problem as posed (after the exact reductions), to read,
        extend and solve again with :func:`geoplan.optimize.solver.solve`; see each
        model's docstring for what it holds. Built on first access where the model was
        solved without it (e.g. a maximal covering proven by its LP bound).
    """

    model: str
    selected: NDArray[np.intp]
    existing: NDArray[np.intp]
    status: str
    objective: float
    bound: float
    gap: float
    solver: str
    build_s: float
    solve_s: float
    covered_before: float = math.nan
    covered_after: float = math.nan
    total_demand: float = math.nan
    beds_added: pd.Series | None = None
    assignment: NDArray[np.intp] | None = None
    by_unit: pd.DataFrame | None = None
    sites: Any = None
    reduction: Reduction | None = None
    explanation: Any = None
    details: dict[str, Any] = field(default_factory=dict)
    _problem: Any = field(default=None, repr=False, compare=False)
    _problem_factory: Any = field(default=None, repr=False, compare=False)

    @property
    def problem(self) -> Any:
        """The PuLP ``LpProblem`` of this plan's model (None where the model has none)."""
        if self._problem is None and self._problem_factory is not None:
            self._problem = self._problem_factory()
            self._problem_factory = None
        return self._problem

    @problem.setter
    def problem(self, value: Any) -> None:
        if callable(value) and not hasattr(value, "constraints"):
            self._problem, self._problem_factory = None, value
        else:
            self._problem, self._problem_factory = value, None

    @classmethod
    def from_solve(cls, model: str, info: SolveInfo, *, selected: Any, existing: Any,
                   build_s: float, **kw: Any) -> Plan:
        """Build a plan from a :class:`~geoplan.optimize.solver.SolveInfo`."""
        return cls(model=model,
                   selected=np.sort(np.asarray(selected, dtype=np.intp)),
                   existing=np.sort(np.asarray(existing, dtype=np.intp)),
                   status=info.status, objective=info.objective, bound=info.bound,
                   gap=info.gap, solver=info.solver, build_s=build_s,
                   solve_s=info.solve_s, **kw)

    @property
    def optimal(self) -> bool:
        """Whether the plan is proven optimal."""
        return self.status == OPTIMAL

    @property
    def feasible(self) -> bool:
        """Whether the plan holds a solution (optimal or time-limited)."""
        return self.status in (OPTIMAL, FEASIBLE)

    @property
    def n_new(self) -> int:
        """Number of new sites chosen."""
        return int(self.selected.size)

    @property
    def share_before(self) -> float:
        """Covered share of demand before the plan."""
        return self.covered_before / self.total_demand if self.total_demand else math.nan

    @property
    def share_after(self) -> float:
        """Covered share of demand after the plan."""
        return self.covered_after / self.total_demand if self.total_demand else math.nan

    def summary(self) -> dict[str, Any]:
        """Key figures as a flat, JSON-friendly dict."""
        def num(v: float) -> float | None:
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
        out: dict[str, Any] = {
            "model": self.model, "status": self.status, "new_sites": self.n_new,
            "existing_sites": int(self.existing.size), "objective": num(self.objective),
            "bound": num(self.bound), "gap": num(self.gap), "solver": self.solver,
            "build_s": round(self.build_s, 3), "solve_s": round(self.solve_s, 3),
            "total_demand": num(self.total_demand),
            "covered_before": num(self.covered_before),
            "covered_after": num(self.covered_after),
            "share_before": num(self.share_before), "share_after": num(self.share_after),
        }
        if self.beds_added is not None:
            out["beds_added"] = int(round(float(self.beds_added.sum())))
        if self.reduction is not None:
            out["reduction"] = str(self.reduction)
        return out

    def to_geodataframe(self) -> Any:
        """Chosen and existing sites as a GeoDataFrame (GIS front door only).

        Returns
        -------
        geopandas.GeoDataFrame
            One row per site with ``site_id``, ``status`` (``"new"``/``"existing"``),
            ``beds_added`` where relevant and the site geometry.

        Raises
        ------
        ValueError
            If the plan came from the numeric front door (no geometries).
        """
        if self.sites is None:
            raise ValueError("this plan was solved from plain numbers and has no site "
                             "geometries; use the model's GIS front door")
        return self.sites

    def __repr__(self) -> str:
        cov = ""
        if not math.isnan(self.covered_after):
            cov = f", share {self.share_before:.1%} -> {self.share_after:.1%}"
        return (f"Plan({self.model}, {self.status}, new={self.n_new}, "
                f"objective={self.objective:.6g}, gap={self.gap:.2%}{cov})")

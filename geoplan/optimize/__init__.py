"""Exact location models: where to add sites, beds or centres to reach a target.

Every model has a numeric front door (a sparse demand x site matrix, weights, costs;
existing facilities as explicit column indices) and a GIS front door on a
:class:`~geoplan.optimize.gis.SiteProblem`, and returns one :class:`~geoplan.optimize.plan.Plan`.
"""

from .balanced import balanced_covering, balanced_covering_from_problem
from .beds import beds_to_ratio, beds_to_ratio_from_region
from .capacity import (
    capacitated_max_covering,
    capacitated_p_median,
    capacitated_set_covering,
    capacity_loads,
)
from .center import p_center, p_center_from_problem
from .covering import (
    max_covering,
    max_covering_from_problem,
    set_covering,
    set_covering_from_problem,
)
from .function_centres import function_centres, function_centres_from_problem
from .gis import SiteProblem, build_problem
from .median import p_median, p_median_from_problem
from .plan import Plan, Reduction
from .solver import DEFAULT_SOLVER, SolveInfo, solve
from .tiered import tiered_plan
from .tradeoff import tradeoff_curve, tradeoff_curve_from_problem

__all__ = [
    "DEFAULT_SOLVER",
    "Plan",
    "Reduction",
    "SiteProblem",
    "SolveInfo",
    "balanced_covering",
    "balanced_covering_from_problem",
    "beds_to_ratio",
    "beds_to_ratio_from_region",
    "build_problem",
    "capacitated_max_covering",
    "capacitated_p_median",
    "capacitated_set_covering",
    "capacity_loads",
    "function_centres",
    "function_centres_from_problem",
    "max_covering",
    "max_covering_from_problem",
    "p_center",
    "p_center_from_problem",
    "p_median",
    "p_median_from_problem",
    "set_covering",
    "set_covering_from_problem",
    "solve",
    "tiered_plan",
    "tradeoff_curve",
    "tradeoff_curve_from_problem",
]

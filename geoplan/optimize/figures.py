"""The figures a reader is shown of a plan, each with its unit: :func:`plan_figures`.

Why: a committee reads "3 new hospitals, 2,153 beds, 153,180 万元", "mean drive 11.2
minutes", "worst drive 38.7 minutes" - not an objective value whose meaning depends on the
model. Pages (report, maps, the command line) render these figures and never derive them
again from tables of their own: every figure comes from the :class:`~geoplan.optimize.plan.Plan`
the model returned, and ``summary.json`` carries them, so a test can recompute each from
the plan's own primitive fields and fail on any page that differs.

Figures (``key``: unit; present only where the plan has them):

``new_sites``: sites
    New sites opened (``plan.n_new``).
``upgraded_sites``: sites
    Existing facilities given beds (``plan.sites`` rows ``existing`` with beds added).
``upgraded_tier_sites``: sites
    Tiered plans: facilities raised to a higher tier or designated one
    (``plan.sites`` rows ``upgraded_tier``).
``beds_added``: beds
    Beds added over all sites.
``cost``: 万元
    The plan's cost as the model counted it: the sum of ``plan.sites["cost"]`` over the
    new and upgraded sites (for beds plans each site's beds times the per-bed cost plus
    the fixed cost of a new hospital, equal to the objective); absent when the model had
    no costs.
``covered_before``, ``covered_after``: people; ``share_before``, ``share_after``: share
    Demand within the standard before (existing sites only) and after the plan
    (covering models; function centres: shares only, the mean over centre types; tiered
    plans: the lowest tier's standard, which every facility of the plan meets).
``uncovered_after``: people
    ``total_demand - covered_after``: who is still outside the standard.
``standard_minutes``: minutes
    The time standard the model used (absent for per-cell standards, e.g. urban 12 /
    rural 20 minutes).
``mean_minutes``: minutes
    Demand-weighted mean travel time to the nearest open site (p-median; people beyond
    the search cut-off are counted at the cut-off).
``worst_minutes``: minutes
    The longest travel time of any served demand to its nearest open site (p-center).
``beyond_cutoff``: people; ``cutoff_minutes``: minutes
    People no open site reaches within the model's search cut-off (p-median, p-center).
``unassigned``: people
    People no open site within reach had room for (capacitated p-median; counted at the
    cut-off in the mean time).
``gini_before``, ``gini_after``: index
    The population-weighted Gini coefficient of travel time to the nearest site before and
    after the plan, over the model's demand (people beyond its search limit counted at
    it); set by the scenario run from the plan's cells (``plan.details["equity"]``).
``worst_unit_share``: share
    The lowest covered share of any admin unit (with people) after the plan, from the
    plan's per-unit table (covering models).
``worst_zone_share``: share; ``price_of_balance``: people (sites for a fewest-sites plan)
    Balanced plans: the worst zone's covered share after the plan, and what the balance
    costs against the same plan without zone rules (:mod:`geoplan.optimize.balanced`).
``balance_minutes``: minutes
    A p-median balanced over zones: the mean trip the zone rules add against the same
    p-median without them (:mod:`geoplan.optimize.balanced_median`).
``units_met``, ``units``: units
    Admin units meeting the target after the plan, of all units (beds plans: ``met``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["COVERING_MODELS", "UNITS", "Figure", "plan_figures"]

#: The unit of each figure (a key of the label catalogue ``unit.``).
UNITS: dict[str, str] = {
    "new_sites": "sites", "upgraded_sites": "sites", "upgraded_tier_sites": "sites",
    "beds_added": "beds",
    "cost": "wan_yuan", "covered_before": "people", "covered_after": "people",
    "share_before": "share", "share_after": "share", "uncovered_after": "people",
    "standard_minutes": "minutes", "mean_minutes": "minutes", "worst_minutes": "minutes",
    "beyond_cutoff": "people", "cutoff_minutes": "minutes", "unassigned": "people",
    "worst_unit_share": "share", "worst_zone_share": "share", "price_of_balance": "people",
    "balance_minutes": "minutes",
    "gini_before": "index", "gini_after": "index",
    "units_met": "units",
    "units": "units",
}


@dataclass(frozen=True)
class Figure:
    """One figure of a plan: what it is, its value and its unit.

    Attributes
    ----------
    key
        The figure's name (a key of :data:`UNITS`; its label is ``fig.<key>``).
    value
        The number, as the model computed it.
    unit
        ``sites``, ``beds``, ``wan_yuan`` (万元), ``people``, ``share`` (0-1),
        ``minutes`` or ``units``.
    """

    key: str
    value: float
    unit: str


def _finite(v: Any) -> bool:
    return v is not None and isinstance(v, int | float | np.integer | np.floating) \
        and math.isfinite(float(v))


def _site_figures(plan: Any) -> dict[str, float]:
    sites = getattr(plan, "sites", None)
    if sites is None or not len(sites) or "status" not in sites.columns:
        return {}
    status = sites["status"].astype(str)
    added = pd.to_numeric(sites.get("beds_added", pd.Series(0.0, index=sites.index)),
                          errors="coerce").fillna(0.0)
    upgraded = (status == "existing") & (added > 0)
    raised = status == "upgraded_tier"                  # tiered plans
    out: dict[str, float] = {}
    if upgraded.any():
        out["upgraded_sites"] = int(upgraded.sum())
    if raised.any():
        out["upgraded_tier_sites"] = int(raised.sum())
    if "cost" in sites.columns:
        paid = (status == "new") | upgraded | raised
        cost = pd.to_numeric(sites.loc[paid, "cost"], errors="coerce")
        if cost.notna().any():
            out["cost"] = float(cost.sum())
    return out


#: Models whose plan counts people within a time standard (covered before/after).
COVERING_MODELS = ("set_covering", "max_covering", "tradeoff", "standards_cover",
                   "capacitated_set_covering", "capacitated_max_covering",
                   "balanced_covering")


def _covering(plan: Any, values: dict[str, float]) -> None:
    for key in ("covered_before", "covered_after", "share_before", "share_after"):
        v = getattr(plan, key)
        if _finite(v):
            values[key] = float(v)
    if _finite(plan.covered_after) and _finite(plan.total_demand):
        values["uncovered_after"] = float(plan.total_demand - plan.covered_after)
    if _finite(plan.details.get("minutes")):
        values["standard_minutes"] = float(plan.details["minutes"])
    by_unit = plan.by_unit
    if by_unit is not None and {"admin_code", "share_after", "population"} <= set(by_unit):
        units = by_unit[(by_unit["admin_code"].astype(str) != "total")
                        & (by_unit["population"] > 0)]
        if len(units):
            values["worst_unit_share"] = float(units["share_after"].min())


def _times(plan: Any, values: dict[str, float]) -> None:
    """p-median / p-center: times, and who lies beyond the model's search cut-off."""
    d = plan.details
    if plan.model == "p_median" and _finite(d.get("mean_time")):
        values["mean_minutes"] = float(d["mean_time"])
    if plan.model == "p_median" and _finite(d.get("balance_minutes")):
        values["balance_minutes"] = float(d["balance_minutes"])
    if plan.model == "p_center" and _finite(d.get("worst_time")):
        values["worst_minutes"] = float(d["worst_time"])
    beyond = d.get("unassigned_population", d.get("unreachable_population"))
    if _finite(beyond):
        values["beyond_cutoff"] = float(beyond)
        if _finite(d.get("minutes")):
            values["cutoff_minutes"] = float(d["minutes"])


def plan_figures(plan: Any) -> list[Figure]:
    """The figures of ``plan`` a reader is shown, in reading order (see the module).

    Which figures depend on the model: covering models (:data:`COVERING_MODELS`) give
    people and shares within their standard (capacitated ones: people *served* within it
    and within the sites' capacities); the capacitated p-median those, its mean time and
    the people left unassigned; the p-median its mean time and the p-center
    its worst time (their cut-off is a search limit, not a standard: people beyond it are
    counted, ``beyond_cutoff``); beds plans their beds, cost and units meeting the ratio;
    function centres the mean covered share over their centre types (their covered
    counts add people over types, so no count of people is shown).

    Parameters
    ----------
    plan
        A :class:`~geoplan.optimize.plan.Plan`.

    Returns
    -------
    list of Figure
        Only the figures the plan has (an infeasible plan has none).
    """
    values: dict[str, float] = {}
    if plan.feasible:
        values["new_sites"] = plan.n_new
        values.update(_site_figures(plan))
        if plan.beds_added is not None:
            values["beds_added"] = float(np.round(float(plan.beds_added.sum())))
        if plan.model in COVERING_MODELS:
            _covering(plan, values)
        elif plan.model in ("p_median", "p_center"):
            _times(plan, values)
        elif plan.model == "capacitated_p_median":
            _covering(plan, values)
            d = plan.details
            if _finite(d.get("mean_time")):
                values["mean_minutes"] = float(d["mean_time"])
            if _finite(d.get("unassigned")):
                values["unassigned"] = float(d["unassigned"])
        elif plan.model == "tiered_plan":
            _covering(plan, values)
        elif plan.model == "function_centres":
            for key in ("share_before", "share_after"):
                if _finite(getattr(plan, key)):
                    values[key] = float(getattr(plan, key))
        if plan.model == "balanced_covering":
            d = plan.details
            if _finite(d.get("worst_share")):
                values["worst_zone_share"] = float(d["worst_share"])
            if _finite(d.get("price_of_balance")) and d.get("objective") != "sites":
                values["price_of_balance"] = float(d["price_of_balance"])
        eq = plan.details.get("equity") or {}
        for key in ("gini_before", "gini_after"):
            if _finite(eq.get(key)):
                values[key] = float(eq[key])
        by_unit = plan.by_unit
        if by_unit is not None and "met" in by_unit.columns:
            values["units_met"] = int(by_unit["met"].astype(bool).sum())
            values["units"] = len(by_unit)
    order = list(UNITS)
    return [Figure(k, values[k], UNITS[k]) for k in sorted(values, key=order.index)]

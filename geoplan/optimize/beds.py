r"""Beds to a ratio target: every admin unit reaches R beds per 1,000 residents at least cost.

Why: Chinese planning norms set at least 7 hospital beds per 1,000 residents
(每千人口床位数 ≥ 7) in every district. Beds can be added at existing hospitals (a cost
per bed, up to an expansion limit) or in new hospitals (a fixed cost plus a cost per
bed, between a minimum and maximum size). Optionally the beds must also be *reachable*:
residents are assigned to hospitals within T minutes and no hospital serves more people
than its beds support.

Model
-----
Units :math:`U` with population :math:`P_U` and existing beds :math:`B_U`; target
:math:`R` beds per 1,000 so unit :math:`U` needs :math:`N_U = R P_U / 1000` beds.
Existing hospitals :math:`h \in H_U` with per-bed cost :math:`c_h` and expansion limit
:math:`\bar a_h`; new sites :math:`s \in S_U` with fixed cost :math:`F_s`, per-bed cost
:math:`c_s` and size limits :math:`[\underline b_s, \bar b_s]`. Integer beds added
:math:`a_h`, :math:`b_s`; :math:`z_s \in \{0,1\}` opens site :math:`s`.

.. math::

    \min \sum_h c_h a_h + \sum_s (F_s z_s + c_s b_s) \quad\text{s.t.}\quad
    B_U + \sum_{h \in H_U} a_h + \sum_{s \in S_U} b_s \ge N_U \;\; (\forall U),

    0 \le a_h \le \bar a_h, \qquad \underline b_s z_s \le b_s \le \bar b_s z_s .

Reachable variant (``coverage`` given, demand rows :math:`i` with population
:math:`p_i`, :math:`K_i` the hospitals and sites within T of :math:`i`): continuous
assignments :math:`q_{ik} \ge 0` (people of :math:`i` served by :math:`k`) with

.. math::

    \sum_{k \in K_i} q_{ik} \ge \sigma p_i, \qquad
    \sum_i q_{ik} \le \tfrac{1000}{R}\,(\text{beds}_k + a_k \text{ or } b_k),

:math:`\sigma` = ``reach_share``: every resident (or that share) must be served by beds
within T, each bed serving :math:`1000/R` people.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd
import pulp
from numpy.typing import NDArray
from scipy import sparse

from .._errors import GeoplanInputError
from .plan import Plan
from .solver import INFEASIBLE, SolveInfo, solve, time_left

__all__ = ["BedShortfall", "beds_to_ratio", "beds_to_ratio_from_region"]


class BedShortfall:
    """Units that cannot reach the ratio even with every expansion and new site at maximum.

    Attributes
    ----------
    table
        Per unit: ``unit``, ``population``, ``beds_needed``, ``beds_max``, ``beds_short``.
    """

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table

    def message(self, lang: str = "en") -> str:
        """A sentence for reports."""
        bad = self.table[self.table["beds_short"] > 0]
        items = ", ".join(f"{r.unit} ({r.beds_short:,.0f})" for r in bad.itertuples())
        if lang == "zh":
            return f"目标无法实现：以下单元即使扩建到上限仍缺床位（缺口）：{items}。放宽扩建上限或增加新院址。"
        return (f"target out of reach: even at every expansion limit these units lack beds "
                f"(beds short): {items}; raise the expansion limits or add new sites.")

    def __str__(self) -> str:
        return self.message()


def _frame(df: pd.DataFrame | None, name: str, required: dict[str, Any]) -> pd.DataFrame:
    if df is None:
        return pd.DataFrame({k: pd.Series(dtype=object if v is None else float)
                             for k, v in required.items()})
    out = pd.DataFrame(df).reset_index(drop=True).copy()
    for col, default in required.items():
        if col not in out.columns:
            if default is None:
                raise GeoplanInputError(f"{name} needs a '{col}' column", field=col)
            out[col] = default
        elif default is not None:
            vals = pd.to_numeric(out[col], errors="coerce")
            if vals.isna().any() or (vals < 0).any():
                bad = int(np.flatnonzero(vals.isna() | (vals < 0))[0])
                raise GeoplanInputError(f"{name} row {bad}: '{col}' must be a non-negative "
                                        f"number, got {out[col].iloc[bad]!r}", field=col)
            out[col] = vals.astype(float)
    return out


def beds_to_ratio(
    unit_population: pd.Series,
    hospitals: pd.DataFrame,
    new_sites: pd.DataFrame | None = None,
    *,
    ratio: float = 7.0,
    coverage: sparse.spmatrix | None = None,
    demand: NDArray[np.float64] | None = None,
    reach_share: float = 1.0,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
) -> Plan:
    """Least-cost beds so every unit reaches ``ratio`` beds per 1,000 residents.

    Parameters
    ----------
    unit_population
        Population per unit (index: unit code).
    hospitals
        Existing hospitals: ``unit``, ``beds``, ``max_add`` (default 0), ``cost_per_bed``
        (default 1); optional ``id``.
    new_sites
        Possible new hospitals: ``unit``, ``fixed_cost``, ``cost_per_bed``, ``min_beds``,
        ``max_beds``; optional ``id``.
    ratio
        Target beds per 1,000 residents (R).
    coverage, demand, reach_share
        Reachable variant: ``(rows, hospitals + new sites)`` boolean matrix (columns:
        hospitals in order, then new sites), population per row, and the share of every
        row that must be served within reach (see the module docstring).
    solver, time_limit, gap
        See :func:`geoplan.optimize.solver.solve`.

    Returns
    -------
    Plan
        ``selected`` = new site positions opened; ``beds_added`` per site id (hospitals
        then new sites); ``objective`` = total cost; ``by_unit`` with ``population,
        beds_before, beds_after, per_1000_before, per_1000_after, target, met``.
        Unreachable targets return status ``"infeasible"`` with a :class:`BedShortfall`.
    """
    t0 = time.perf_counter()
    if not (ratio > 0 and math.isfinite(ratio)):
        raise GeoplanInputError(f"ratio must be positive, got {ratio!r}", field="ratio")
    pop = pd.Series(unit_population, dtype=float)
    if pop.isna().any() or (pop < 0).any():
        raise GeoplanInputError("unit populations must be non-negative numbers",
                                field="population")
    H = _frame(hospitals, "hospitals", {"unit": None, "beds": 0.0, "max_add": 0.0,
                                        "cost_per_bed": 1.0})
    S = _frame(new_sites, "new_sites", {"unit": None, "fixed_cost": 0.0, "cost_per_bed": 1.0,
                                        "min_beds": 0.0, "max_beds": 0.0})
    if (S["min_beds"] > S["max_beds"]).any():
        raise GeoplanInputError("new site min_beds exceeds max_beds", field="min_beds")
    H["id"] = H["id"].astype(str) if "id" in H else [f"h{i}" for i in range(len(H))]
    S["id"] = S["id"].astype(str) if "id" in S else [f"s{i}" for i in range(len(S))]
    for name, frame in (("hospitals", H), ("new_sites", S)):
        unknown = set(frame["unit"]) - set(pop.index)
        if unknown:
            raise GeoplanInputError(f"{name} lie in unit(s) {sorted(map(str, unknown))[:5]} "
                                    "that have no population entry", field="unit")
    need = ratio * pop / 1000.0
    before = H.groupby("unit")["beds"].sum().reindex(pop.index).fillna(0.0)
    most = (before + H.groupby("unit")["max_add"].sum().reindex(pop.index).fillna(0.0)
            + S.groupby("unit")["max_beds"].sum().reindex(pop.index).fillna(0.0))
    short = np.ceil(np.maximum(need - most, 0.0) - 1e-9).clip(lower=0)
    if (short > 0).any():
        table = pd.DataFrame({"unit": pop.index, "population": pop.to_numpy(),
                              "beds_needed": np.ceil(need.to_numpy() - 1e-9),
                              "beds_max": most.to_numpy(), "beds_short": short.to_numpy()})
        info = SolveInfo(INFEASIBLE, math.nan, math.nan, math.nan,
                         "(not run: target proven unreachable)", 0.0)
        plan = Plan.from_solve("beds_to_ratio", info, selected=[], existing=np.arange(len(H)),
                               build_s=time.perf_counter() - t0,
                               explanation=BedShortfall(table))
        plan.by_unit = _by_unit(pop, before, before, ratio)
        return plan

    prob = pulp.LpProblem("beds_to_ratio", pulp.LpMinimize)
    a = [pulp.LpVariable(f"a{i}", 0, float(m), cat="Integer") for i, m in enumerate(H["max_add"])]
    b = [pulp.LpVariable(f"b{i}", 0, float(m), cat="Integer") for i, m in enumerate(S["max_beds"])]
    z = [pulp.LpVariable(f"z{i}", cat="Binary") for i in range(len(S))]
    prob += pulp.LpAffineExpression(
        list(zip(a, H["cost_per_bed"].tolist(), strict=True))
        + list(zip(b, S["cost_per_bed"].tolist(), strict=True))
        + list(zip(z, S["fixed_cost"].tolist(), strict=True)))
    for s in range(len(S)):
        prob += b[s] <= float(S["max_beds"].iloc[s]) * z[s], f"max{s}"
        prob += b[s] >= float(S["min_beds"].iloc[s]) * z[s], f"min{s}"
    h_of = H.groupby("unit").indices
    s_of = S.groupby("unit").indices
    for k, unit in enumerate(pop.index):
        gap_u = float(need[unit] - before[unit])
        if gap_u <= 1e-9:
            continue
        terms = [(a[i], 1.0) for i in h_of.get(unit, [])] + [(b[i], 1.0) for i in
                                                              s_of.get(unit, [])]
        prob += pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintGE,
                                  f"unit{k}", gap_u - 1e-9)
    if coverage is not None:
        _reach_rows(prob, coverage, demand, reach_share, ratio, H, S, a, b)
    build_s = time.perf_counter() - t0
    info = solve(prob, solver, time_limit=time_left(time_limit, t0), gap=gap)
    add_h = np.array([round(v.varValue or 0.0) for v in a], float)
    add_s = np.array([round(v.varValue or 0.0) for v in b], float)
    opened = np.flatnonzero(np.array([(v.varValue or 0.0) > 0.5 for v in z], bool))
    added = pd.Series(np.r_[add_h, add_s], index=np.r_[H["id"].to_numpy(), S["id"].to_numpy()])
    after = before + pd.Series(add_h).groupby(H["unit"].to_numpy()).sum().reindex(
        pop.index).fillna(0.0) + pd.Series(add_s).groupby(S["unit"].to_numpy()).sum().reindex(
        pop.index).fillna(0.0)
    plan = Plan.from_solve("beds_to_ratio", info, selected=opened, existing=np.arange(len(H)),
                           build_s=build_s, beds_added=added[added > 0] if info.has_solution
                           else None, details={"ratio": ratio})
    plan.by_unit = _by_unit(pop, before, after if info.has_solution else before, ratio)
    plan.problem = prob
    return plan


def _reach_rows(prob: pulp.LpProblem, coverage: Any, demand: Any, share: float, ratio: float,
                H: pd.DataFrame, S: pd.DataFrame, a: list, b: list) -> None:
    C = sparse.csr_matrix(coverage).astype(bool)
    k = len(H) + len(S)
    if C.shape[1] != k:
        raise GeoplanInputError(f"coverage has {C.shape[1]} columns for {k} hospitals and "
                                "new sites", field="coverage")
    d = np.asarray(demand, float)
    if d.shape != (C.shape[0],):
        raise GeoplanInputError("demand needs one value per coverage row", field="demand")
    per_bed = 1000.0 / ratio
    rows, cols = C.nonzero()
    q = [pulp.LpVariable(f"q{n}", 0) for n in range(rows.size)]
    by_row = pd.Series(np.arange(rows.size)).groupby(rows).indices
    for i, idx in by_row.items():
        prob += pulp.LpConstraint(pulp.LpAffineExpression([(q[n], 1.0) for n in idx]),
                                  pulp.LpConstraintGE, f"serve{i}", share * float(d[i]))
    unserved = np.setdiff1d(np.flatnonzero(d > 0), np.fromiter(by_row.keys(), int))
    if unserved.size and share > 0:
        raise GeoplanInputError(
            f"{unserved.size:,} demand rows ({d[unserved].sum():,.0f} people) reach no "
            "hospital or new site within the time standard, so they cannot be served",
            field="coverage", hint="lower reach_share, raise the time standard or add "
                                   "new sites near them")
    by_col = pd.Series(np.arange(rows.size)).groupby(cols).indices
    for j, idx in by_col.items():
        expr = pulp.LpAffineExpression([(q[n], 1.0) for n in idx])
        if j < len(H):
            expr.addterm(a[j], -per_bed)
            rhs = per_bed * float(H["beds"].iloc[j])
        else:
            expr.addterm(b[j - len(H)], -per_bed)
            rhs = 0.0
        prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, f"cap{j}", rhs)


def _by_unit(pop: pd.Series, before: pd.Series, after: pd.Series, ratio: float) -> pd.DataFrame:
    out = pd.DataFrame({"unit": pop.index, "population": pop.to_numpy(),
                        "beds_before": before.to_numpy(), "beds_after": after.to_numpy()})
    den = out["population"].where(out["population"] > 0)
    out["per_1000_before"] = 1000 * out["beds_before"] / den
    out["per_1000_after"] = 1000 * out["beds_after"] / den
    out["target"] = ratio
    # compare beds with the beds needed: a unit without residents needs none (its
    # per-1,000 ratio is undefined, not a shortfall)
    out["met"] = out["beds_after"] >= ratio * out["population"] / 1000.0 - 1e-9
    return out


def beds_to_ratio_from_region(region: Any, m: dict[str, Any], **solve_kw: Any) -> Plan:
    """:func:`beds_to_ratio` from a loaded region and a scenario ``[[model]]`` table.

    Keys of ``m``: ``level`` (boundary column to group by, e.g. ``district_code``),
    ``ratio``, ``hospital_types``, ``cost_per_bed``, ``max_add_share`` / ``max_add``
    (expansion limit per hospital: a share of its beds or a number), ``new_site_types``
    (candidate ``site_type`` values), ``new_site_fixed_cost``, ``new_site_min_beds``,
    ``new_site_max_beds``.

    Returns
    -------
    Plan
        With ``by_unit`` (unit names added) and ``sites`` (upgraded hospitals and new
        sites with ``beds_added``).
    """
    import geopandas as gpd
    level = m.get("level", "admin_code")
    pop, fac, cand, b = region.population, region.facilities, region.candidates, \
        region.boundaries
    if level != "admin_code":
        if b is None or level not in b.columns:
            raise GeoplanInputError(f"level '{level}' is not a boundary column", field="level")
        to_level = dict(zip(b["admin_code"], b[level], strict=False))
        names = dict(zip(b[level], b.get(level.replace("_code", "_name"), b[level]),
                         strict=False))
    else:
        to_level = {c: c for c in pop["admin_code"].dropna().unique()}
        names = dict(zip(b["admin_code"], b["admin_name"], strict=False)) if b is not None \
            else {}
    unit_pop = pop.groupby(pop["admin_code"].map(to_level))["population"].sum()
    types = m.get("hospital_types") or [t for t in fac["type"].unique()
                                        if str(t).endswith("hospital")]
    hosp = fac[fac["type"].isin(types) & fac["admin_code"].map(to_level).notna()].copy()
    beds = pd.to_numeric(hosp["beds"], errors="coerce").fillna(0.0)
    if "max_add" in m:
        max_add = np.full(len(hosp), float(m["max_add"]))
    else:
        max_add = np.floor(beds.to_numpy() * float(m.get("max_add_share", 0.5)))
    H = pd.DataFrame({"id": hosp["id"].astype(str).to_numpy(),
                      "unit": hosp["admin_code"].map(to_level).to_numpy(),
                      "beds": beds.to_numpy(), "max_add": max_add,
                      "cost_per_bed": float(m.get("cost_per_bed", 1.0))})
    S = None
    new = cand.iloc[0:0] if cand is not None else None
    if m.get("new_site_types") and cand is not None:
        col = "site_type" if "site_type" in cand.columns else "type"
        new = cand[cand[col].isin(m["new_site_types"]) & cand["admin_code"].map(
            to_level).notna()]
        S = pd.DataFrame({"id": new["id"].astype(str).to_numpy(),
                          "unit": new["admin_code"].map(to_level).to_numpy(),
                          "fixed_cost": float(m.get("new_site_fixed_cost", 0.0)),
                          "cost_per_bed": float(m.get("cost_per_bed", 1.0)),
                          "min_beds": float(m.get("new_site_min_beds", 0)),
                          "max_beds": float(m.get("new_site_max_beds", 0))})
    plan = beds_to_ratio(unit_pop, H, S, ratio=float(m.get("ratio", 7.0)), **solve_kw)
    plan.by_unit.insert(1, "unit_name", plan.by_unit["unit"].map(names))
    name_col = level.replace("_code", "_name") if level.endswith("_code") else f"{level}_name"
    plan.by_unit = plan.by_unit.rename(columns={"unit": level, "unit_name": name_col})
    if plan.feasible and plan.beds_added is not None:
        added = plan.beds_added
        up = hosp[hosp["id"].astype(str).isin(added.index)]
        parts = [gpd.GeoDataFrame({"site_id": up["id"].astype(str).to_numpy(),
                                   "name": up["name"].to_numpy(), "type": up["type"].to_numpy(),
                                   "status": "existing"}, geometry=up.geometry.values,
                                  crs=fac.crs)]
        if new is not None and len(plan.selected):
            op = new.iloc[plan.selected]
            parts.append(gpd.GeoDataFrame({"site_id": op["id"].astype(str).to_numpy(),
                                           "name": op["name"].to_numpy(),
                                           "type": "new hospital", "status": "new"},
                                          geometry=op.geometry.values, crs=fac.crs))
        sites = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                                 crs=fac.crs)
        sites["id"] = sites["site_id"]
        sites["beds_added"] = sites["site_id"].map(added).fillna(0.0)
        plan.sites = sites
    plan.details.update(level=level, hospitals=len(H), new_site_options=0 if S is None
                        else len(S))
    return plan

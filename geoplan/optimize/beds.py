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

Planners' rules on sites (:mod:`geoplan.optimize.site_rules`): new sites forced open
:math:`O`, new sites forced closed :math:`Z_S`, existing hospitals that must not be
expanded :math:`Z_H`, and at most :math:`k_g` new hospitals in cap unit :math:`g`
(new sites :math:`S_g`):

.. math::

    z_s = 1 \;(s \in O), \qquad z_s = 0 \;(s \in Z_S), \qquad a_h = 0 \;(h \in Z_H),
    \qquad \sum_{s \in S_g} z_s \le k_g \;(\forall g).

A forced-open site is a new hospital of the plan like any other: it pays its fixed cost,
takes at least its ``min_beds``, counts towards its unit's cap and is listed in
``Plan.selected``. ``force_closed`` names new sites (never opened) or existing hospitals
(kept with their beds, none added); an existing hospital cannot be forced open (it is
open). Cap units are the new sites' ``unit`` (the units of the ratio) unless
``site_unit`` says otherwise.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pulp
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from geoplan import labels
from geoplan._errors import GeoplanInputError

from .plan import Plan
from .site_rules import SiteRules, check_site_rules
from .solver import INFEASIBLE, SolveInfo, solve, time_left

__all__ = ["BedShortfall", "beds_to_ratio", "beds_to_ratio_from_region"]

log = logging.getLogger(__name__)


class BedShortfall:
    """Units that cannot reach the ratio even with every expansion and new site at maximum.

    Attributes
    ----------
    table
        Per unit: ``unit``, ``population``, ``beds_needed``, ``beds_max``, ``beds_short``.
    rules
        Whether site rules (``force_closed``, ``max_new_per_unit``) limited ``beds_max``.
    """

    def __init__(self, table: pd.DataFrame, rules: bool = False) -> None:
        self.table = table
        self.rules = rules

    def message(self, lang: str = "en") -> str:
        """Return a sentence for reports."""
        bad = self.table[self.table["beds_short"] > 0]
        items = ", ".join(f"{r.unit} ({r.beds_short:,.0f})" for r in bad.itertuples())
        note = labels.text("explain.beds_rules_note", lang) if self.rules else ""
        relax = labels.text("explain.beds_relax_rules" if self.rules else "explain.end", lang)
        return labels.text("explain.beds", lang, note=note, units=items, relax=relax)

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
    force_open: ArrayLike | None = None,
    force_closed: ArrayLike | None = None,
    max_new_per_unit: int | Mapping[str, int] | None = None,
    site_unit: ArrayLike | None = None,
    solver: str | pulp.LpSolver | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    verbose: bool = False,
) -> Plan:
    """Least-cost beds so every unit reaches ``ratio`` beds per 1,000 residents.

    Site columns are numbered as in ``coverage``: the hospitals ``0 .. H-1`` in order,
    then the new sites ``H .. H+S-1``.

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
    force_open
        Columns of new sites that must open (``H + position in new_sites``). An existing
        hospital cannot be forced open.
    force_closed
        Columns of new sites that must not open, or of existing hospitals that must not
        be expanded (they keep their beds).
    max_new_per_unit
        Most new hospitals per unit (forced-open ones included): an int for every unit,
        or a mapping unit -> int (units left out are not capped).
    site_unit
        Cap unit of every column (hospitals then new sites; the hospitals' entries are
        not used). Default: the ``unit`` columns, i.e. the units of the ratio.
    solver, time_limit, gap
        See :func:`geoplan.optimize.solver.solve`.
    verbose
        Show the solver's log (``msg`` of :func:`~geoplan.optimize.solver.solve`).

    Returns
    -------
    Plan
        ``selected`` = new site positions opened; ``beds_added`` per site id (hospitals
        then new sites); ``objective`` = total cost; ``by_unit`` with ``population,
        beds_before, beds_after, per_1000_before, per_1000_after, target, met``;
        ``details`` with ``ratio`` and the site rules (columns, see
        :meth:`~geoplan.optimize.site_rules.SiteRules.details`). Unreachable targets
        return status ``"infeasible"`` with a :class:`BedShortfall`.

    Raises
    ------
    GeoplanInputError
        For bad tables or options; for the site rules naming the option at fault
        (unknown column, an existing hospital forced open, a site both forced open and
        closed, a cap below the sites forced open in a unit).
    """
    t0 = time.perf_counter()
    pop, H, S = _check_tables(unit_population, hospitals, new_sites, ratio)
    rules, no_expand = _bed_rules(H, S, force_open, force_closed, max_new_per_unit, site_unit)
    nH = len(H)
    closed_s = np.zeros(len(S), bool)
    closed_s[rules.force_closed - nH] = True
    opened_s = np.zeros(len(S), bool)
    opened_s[rules.force_open - nH] = True
    details: dict[str, Any] = {"ratio": ratio, **rules.details()}
    if no_expand.size:
        details["force_closed"] = sorted(details.get("force_closed", []) + no_expand.tolist())
    max_add = H["max_add"].to_numpy(float).copy()
    max_add[no_expand] = 0.0
    need = ratio * pop / 1000.0
    before = H.groupby("unit")["beds"].sum().reindex(pop.index).fillna(0.0)
    most = (before + pd.Series(max_add).groupby(H["unit"].to_numpy()).sum().reindex(
        pop.index).fillna(0.0) + _new_beds_most(S, pop.index, rules, closed_s, opened_s))
    short = np.ceil(np.maximum(need - most, 0.0) - 1e-9).clip(lower=0)
    if (short > 0).any():
        table = pd.DataFrame({"unit": pop.index, "population": pop.to_numpy(),
                              "beds_needed": np.ceil(need.to_numpy() - 1e-9),
                              "beds_max": most.to_numpy(), "beds_short": short.to_numpy()})
        info = SolveInfo(INFEASIBLE, math.nan, math.nan, math.nan,
                         "(not run: target proven unreachable)", 0.0)
        plan = Plan.from_solve("beds_to_ratio", info, selected=[], existing=np.arange(nH),
                               build_s=time.perf_counter() - t0, details=details,
                               explanation=BedShortfall(table, rules=rules.active
                                                        or bool(no_expand.size)))
        plan.by_unit = _by_unit(pop, before, before, ratio)
        log.info("beds_to_ratio: target out of reach in %d unit(s), not solved",
                 int((short > 0).sum()))
        return plan

    prob = pulp.LpProblem("beds_to_ratio", pulp.LpMinimize)
    a = [pulp.LpVariable(f"a{i}", 0, float(m), cat="Integer") for i, m in enumerate(max_add)]
    b = [pulp.LpVariable(f"b{i}", 0, 0.0 if closed_s[i] else float(m), cat="Integer")
         for i, m in enumerate(S["max_beds"])]
    z = [pulp.LpVariable(f"z{i}", 1 if opened_s[i] else 0, 0 if closed_s[i] else 1,
                         cat="Integer") for i in range(len(S))]
    prob += pulp.LpAffineExpression(
        list(zip(a, H["cost_per_bed"].tolist(), strict=True))
        + list(zip(b, S["cost_per_bed"].tolist(), strict=True))
        + list(zip(z, S["fixed_cost"].tolist(), strict=True)))
    for s in range(len(S)):
        prob += b[s] <= float(S["max_beds"].iloc[s]) * z[s], f"max{s}"
        prob += b[s] >= float(S["min_beds"].iloc[s]) * z[s], f"min{s}"
    if rules.group is not None and rules.cap is not None:
        group = rules.group[nH:]
        for g, cap in enumerate(rules.cap.tolist()):
            members = np.flatnonzero(group == g)
            if members.size > cap:
                prob += pulp.LpConstraint(pulp.LpAffineExpression(
                    [(z[s], 1.0) for s in members]), pulp.LpConstraintLE, f"new_in_unit{g}",
                    float(cap))
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
    log.info("beds_to_ratio: %d units, %d hospitals, %d new sites%s; solving", len(pop), nH,
             len(S), " (with site rules)" if "force_closed" in details or rules.active
             else "")
    info = solve(prob, solver, time_limit=time_left(time_limit, t0), gap=gap, msg=verbose)
    log.info("beds_to_ratio: %s, objective %.10g (%.2f s)", info.status, info.objective,
             info.solve_s)
    add_h = np.array([round(v.varValue or 0.0) for v in a], float)
    add_s = np.array([round(v.varValue or 0.0) for v in b], float)
    opened = np.flatnonzero(np.array([(v.varValue or 0.0) > 0.5 for v in z], bool))
    added = pd.Series(np.r_[add_h, add_s], index=np.r_[H["id"].to_numpy(), S["id"].to_numpy()])
    after = before + pd.Series(add_h).groupby(H["unit"].to_numpy()).sum().reindex(
        pop.index).fillna(0.0) + pd.Series(add_s).groupby(S["unit"].to_numpy()).sum().reindex(
        pop.index).fillna(0.0)
    plan = Plan.from_solve("beds_to_ratio", info, selected=opened, existing=np.arange(nH),
                           build_s=build_s, beds_added=added[added > 0] if info.has_solution
                           else None, details=details)
    plan.by_unit = _by_unit(pop, before, after if info.has_solution else before, ratio)
    plan.problem = prob
    return plan


def _check_tables(unit_population: pd.Series, hospitals: pd.DataFrame,
                  new_sites: pd.DataFrame | None,
                  ratio: float) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """Check the ratio and the tables; return population, hospitals and new sites."""
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
    return pop, H, S


def _bed_rules(H: pd.DataFrame, S: pd.DataFrame, force_open: ArrayLike | None,
               force_closed: ArrayLike | None,
               max_new_per_unit: int | Mapping[str, int] | None,
               site_unit: ArrayLike | None) -> tuple[SiteRules, NDArray[np.intp]]:
    """Check the site rules: rules on new sites, and the hospitals not to expand."""
    nH, m = len(H), len(H) + len(S)
    # every column may be named in force_closed: check ranges and overlaps first
    loose = check_site_rules(m, None, force_open=force_open, force_closed=force_closed)
    no_expand = loose.force_closed[loose.force_closed < nH]
    units = (np.r_[H["unit"].to_numpy(object), S["unit"].to_numpy(object)]
             if site_unit is None else site_unit)
    rules = check_site_rules(m, np.arange(nH), force_open=loose.force_open,
                             force_closed=loose.force_closed[loose.force_closed >= nH],
                             max_new_per_unit=max_new_per_unit, site_unit=units)
    return rules, no_expand


def _new_beds_most(S: pd.DataFrame, units: pd.Index, rules: SiteRules,
                   closed: NDArray[np.bool_], forced: NDArray[np.bool_]) -> pd.Series:
    """Most beds new sites can add per unit under the site rules (an upper bound).

    Per ratio unit and cap group: the forced-open sites, then the largest other allowed
    sites up to the group's cap less its forced-open sites (anywhere). Exact when the
    cap units are the ratio units; a valid bound otherwise.
    """
    most = S["max_beds"].to_numpy(float).copy()
    most[closed] = 0.0
    out = pd.Series(0.0, index=units)
    if not len(S):
        return out
    nH = rules.group.size - len(S) if rules.group is not None else 0
    group = rules.group[nH:] if rules.group is not None else np.full(len(S), -1)
    left = rules.remaining_cap()
    frame = pd.DataFrame({"unit": S["unit"].to_numpy(object), "group": group})
    for (unit, g), idx in frame.groupby(["unit", "group"]).indices.items():
        if g < 0 or left is None:
            out[unit] += float(most[idx].sum())
            continue
        free = np.sort(most[idx[~forced[idx]]])[::-1][:max(int(left[g]), 0)]
        out[unit] += float(most[idx[forced[idx]]].sum() + free.sum())
    return out


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


def beds_to_ratio_from_region(region: Any, *, level: str = "admin_code", ratio: float = 7.0,
                              hospital_types: Sequence[str] | None = None,
                              cost_per_bed: float = 1.0, max_add_share: float | None = None,
                              max_add: int | None = None,
                              new_site_types: Sequence[str] | None = None,
                              new_site_fixed_cost: float = 0.0, new_site_min_beds: int = 0,
                              new_site_max_beds: int = 0, force_open: Any = None,
                              force_closed: Any = None,
                              max_new_per_unit: int | Mapping[str, int] | None = None,
                              verbose: bool | None = None, **solve_kw: Any) -> Plan:
    """:func:`beds_to_ratio` from a loaded region (the scenario kind ``beds_to_ratio``).

    Parameters
    ----------
    region
        The loaded region (population, facilities with ``beds``, candidates).
    level
        Boundary column to group by, e.g. ``district_code``.
    ratio
        Beds per 1,000 residents every unit must reach.
    hospital_types
        Facility types that can be expanded (default: every type ending in
        ``hospital``).
    cost_per_bed
        Cost of one added bed (expansion or new site).
    max_add_share, max_add
        Expansion limit per hospital: a share of its beds (default 0.5) or a number
        (``max_add`` wins).
    new_site_types
        Candidate ``site_type`` values where new hospitals may open.
    new_site_fixed_cost, new_site_min_beds, new_site_max_beds
        Fixed cost and bed range of a new hospital.
    force_open
        Ids of new hospital sites (candidates of ``new_site_types``) that must open.
    force_closed
        Ids of new hospital sites that must not open, or of hospitals (of
        ``hospital_types``) that must not be expanded. Ids are looked up among the new
        sites first.
    max_new_per_unit
        Most new hospitals per unit of ``level`` (an int, or unit code -> int).
    verbose
        Show the solver's log.
    **solve_kw
        ``solver``, ``time_limit``, ``gap``.

    Returns
    -------
    Plan
        With ``by_unit`` (unit names added) and ``sites`` (upgraded hospitals and new
        sites with ``beds_added`` and ``cost``, each site's share of the objective in
        万元); ``details`` adds the rules by id
        (``force_open_ids``, ``force_closed_ids``).

    Raises
    ------
    GeoplanInputError
        For an id that is not a new hospital site (or, in ``force_closed``, a hospital),
        naming the option and the id.
    """
    import geopandas as gpd
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
    types = list(hospital_types or []) or [t for t in fac["type"].unique()
                                           if str(t).endswith("hospital")]
    hosp = fac[fac["type"].isin(types) & fac["admin_code"].map(to_level).notna()].copy()
    beds = pd.to_numeric(hosp["beds"], errors="coerce").fillna(0.0)
    if max_add is not None:
        limit = np.full(len(hosp), float(max_add))
    else:
        limit = np.floor(beds.to_numpy() * float(0.5 if max_add_share is None
                                                 else max_add_share))
    H = pd.DataFrame({"id": hosp["id"].astype(str).to_numpy(),
                      "unit": hosp["admin_code"].map(to_level).to_numpy(),
                      "beds": beds.to_numpy(), "max_add": limit,
                      "cost_per_bed": float(cost_per_bed)})
    S = None
    new = cand.iloc[0:0] if cand is not None else None
    if new_site_types and cand is not None:
        col = "site_type" if "site_type" in cand.columns else "type"
        new = cand[cand[col].isin(list(new_site_types)) & cand["admin_code"].map(
            to_level).notna()]
        S = pd.DataFrame({"id": new["id"].astype(str).to_numpy(),
                          "unit": new["admin_code"].map(to_level).to_numpy(),
                          "fixed_cost": float(new_site_fixed_cost),
                          "cost_per_bed": float(cost_per_bed),
                          "min_beds": float(new_site_min_beds),
                          "max_beds": float(new_site_max_beds)})
    fo, fc, cap = force_open, force_closed, max_new_per_unit
    new_ids = [] if S is None else S["id"].tolist()
    kinds = list(new_site_types or [])
    plan = beds_to_ratio(unit_pop, H, S, ratio=float(ratio),
                         force_open=_bed_columns(fo, "force_open", H, new_ids, region, kinds),
                         force_closed=_bed_columns(fc, "force_closed", H, new_ids, region,
                                                   kinds),
                         max_new_per_unit=cap, verbose=bool(verbose), **solve_kw)
    for key, ids in (("force_open_ids", fo), ("force_closed_ids", fc)):
        if ids is not None and len(_as_ids(ids)):
            plan.details[key] = sorted(set(_as_ids(ids)))
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
        # each site's cost as the model counts it (万元): beds x per-bed cost, plus the
        # fixed cost of a new hospital; they sum to the objective
        sites["cost"] = sites["beds_added"] * float(cost_per_bed) + np.where(
            sites["status"] == "new", float(new_site_fixed_cost), 0.0)
        plan.sites = sites
    plan.details.update(level=level, hospitals=len(H), new_site_options=0 if S is None
                        else len(S))
    return plan


def _as_ids(ids: Any) -> list[str]:
    """Ids as text (one id or a list)."""
    if isinstance(ids, (str, bytes, int, np.integer)):
        ids = [ids]
    return [str(i) for i in ids]


def _bed_columns(ids: Any, option: str, H: pd.DataFrame, new_ids: list[str], region: Any,
                 new_site_types: list[str]) -> NDArray[np.intp] | None:
    """Columns (hospitals, then new sites) of the ids in ``force_open`` / ``force_closed``.

    Raises
    ------
    GeoplanInputError
        Naming the option and the id when it is no new hospital site (nor, for
        ``force_closed``, a hospital of the model).
    """
    if ids is None:
        return None
    nH = len(H)
    new_pos = {s: nH + j for j, s in enumerate(new_ids)}
    hosp_pos = {s: j for j, s in enumerate(H["id"].tolist())}
    cols: list[int] = []
    for i in _as_ids(ids):
        if i in new_pos:
            cols.append(new_pos[i])
        elif i in hosp_pos and option == "force_closed":
            cols.append(hosp_pos[i])
        elif i in hosp_pos:
            raise GeoplanInputError(
                f"{option}: {i} is an existing hospital; existing hospitals are open "
                "already", field=option,
                hint="force_open lists new hospital sites; to keep a hospital from growing "
                     "list it in force_closed")
        else:
            raise GeoplanInputError(f"{option}: {_bed_id_problem(i, region, new_site_types)}",
                                    field=option,
                                    hint="list ids of new hospital sites (candidates of "
                                         "new_site_types)" + (" or of hospitals"
                                                              if option == "force_closed"
                                                              else ""))
    return np.array(sorted(set(cols)), np.intp)


def _bed_id_problem(i: str, region: Any, new_site_types: list[str]) -> str:
    """Why id ``i`` is neither a new hospital site nor a hospital of the model."""
    cand = region.candidates
    if cand is not None and i in set(cand["id"].astype(str)):
        if not new_site_types:
            return f"{i} is a candidate site, but the model has no new_site_types"
        return (f"{i} is a candidate site but not a new hospital site (not of "
                f"new_site_types {list(new_site_types)}, or outside the units)")
    fac = region.facilities
    if fac is not None and i in set(fac["id"].astype(str)):
        return f"{i} is an existing facility but not one of the model's hospitals"
    return f"no new hospital site or hospital has id {i}"

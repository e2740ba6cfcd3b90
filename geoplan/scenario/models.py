"""Run one ``[[model]]`` of a scenario file on a loaded region.

Why separate from :mod:`geoplan.scenario.run`: this is the translation from a scenario's
planning words (existing types, candidate types, upgrade types, rural demand, urban and
rural time standards) into the GIS front doors of :mod:`geoplan.optimize`; the runner
only sequences steps and writes files.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import GeoplanInputError
from geoplan.inputs.region import Region
from geoplan.scenario.spec import ModelSpec, SiteModelSpec, _plain

__all__ = ["demand_label", "demand_terms", "demand_values", "plan_cells", "plan_gaps",
           "run_model", "site_problem", "site_types", "standard_minutes",
           "tier_institutions"]


def _facilities_of(region: Region, types: list[str] | None, what: str,
                   name: str) -> gpd.GeoDataFrame:
    fac = region.facilities
    if not types:
        return fac.iloc[0:0]
    known = set(region.vocabulary.codes()) if hasattr(region.vocabulary, "codes") else None
    sel = fac[fac["type"].isin(types)]
    if sel.empty:
        raise GeoplanInputError(
            f"model '{name}': no facilities of type(s) {types} for '{what}'",
            field=what, hint=f"types present: {sorted(fac['type'].unique())}"
            + (f"; known types: {sorted(known)}" if known else ""))
    return sel


def _candidates_of(region: Region, m: SiteModelSpec) -> gpd.GeoDataFrame:
    """Candidate sites: candidate rows of the given site types, plus upgradable facilities."""
    parts = []
    cand_types = m.candidate_types
    if cand_types:
        c = region.candidates
        if c is None:
            raise GeoplanInputError(f"model '{m.name}' names candidate_types but the "
                                    "region has no candidates layer", field="candidate_types")
        col = "site_type" if "site_type" in c.columns else "type"
        sel = c[c[col].isin(cand_types)].copy()
        if sel.empty:
            raise GeoplanInputError(
                f"model '{m.name}': no candidate sites of type(s) {cand_types}",
                field="candidate_types", hint=f"types present: {sorted(c[col].unique())}")
        sel["type"] = sel[col]
        parts.append(sel)
    if m.upgrade_types:
        up = _facilities_of(region, m.upgrade_types, "upgrade_types", m.name).copy()
        if "cost" not in up.columns:
            up["cost"] = np.nan
        parts.append(up)
    if not parts:
        raise GeoplanInputError(f"model '{m.name}' has no candidate sites",
                                field="candidate_types",
                                hint="give candidate_types and/or upgrade_types")
    keep = ["id", "name", "type", "cost", "beds", "capacity", "admin_code", "admin_name",
            "geometry"]
    frames = [p[[k for k in keep if k in p.columns]] for p in parts]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                            crs=parts[0].crs)


def demand_terms(m: Any) -> dict[str, float] | None:
    """A model's ``demand`` as layer -> weight (None: everyone, once)."""
    given = getattr(m, "demand", None)
    if given is None or given == "total":
        return None
    if isinstance(given, str):
        return {given: 1.0}
    return {str(k): float(v) for k, v in given.items()}


def demand_values(population: pd.DataFrame, terms: Mapping[str, float]) -> np.ndarray:
    """The demand of each cell: the weighted sum of its people in each layer (``total``:
    everyone; else the ``demand_<layer>`` column of the population grid)."""
    out = np.zeros(len(population))
    for layer, weight in terms.items():
        col = "population" if layer == "total" else f"demand_{layer}"
        out += weight * population[col].to_numpy(float)
    return out


def demand_label(region: Region, terms: Mapping[str, float]) -> dict[str, Any]:
    """Who a model's demand is, for its pages: the layer's names, or the weighted sum of
    the layers' names (``1 × all residents + 2 × residents aged 65 and over``)."""
    from geoplan import labels
    layers = region.demand_layers
    if len(terms) == 1 and next(iter(terms.values())) == 1.0:
        key = next(iter(terms))
        return {"key": key, **layers.get(key, {})}

    def name(layer: str, lang: str) -> str:
        if layer == "total":
            return labels.text("report.everyone", lang)
        info = layers.get(layer, {})
        return info.get("name_zh" if lang == "zh" else "name") or info.get("name") or layer
    return {"key": " + ".join(f"{w:g}*{k}" for k, w in terms.items()),
            "weights": dict(terms),
            "name": " + ".join(f"{w:g} × {name(k, 'en')}" for k, w in terms.items()),
            "name_zh": " + ".join(f"{name(k, 'zh')}×{w:g}" for k, w in terms.items())}


def _demand(region: Region, m: SiteModelSpec) -> gpd.GeoDataFrame:
    """The model's demand cells: those of ``demand_levels``, people of its ``demand``
    (``population`` = that group, or the weighted sum of the groups it names;
    ``population_total`` = everyone)."""
    pop = region.population
    if m.demand_levels:
        pop = pop[pop["admin_code"].isin(_demand_codes(region, m))]
    terms = demand_terms(m)
    if terms is None:
        return pop
    missing = [k for k in terms if k != "total" and f"demand_{k}" not in pop.columns]
    if missing:
        raise GeoplanInputError(f"model '{m.name}': the region has no demand layer "
                                f"'{missing[0]}'", field="demand",
                                hint="add [demand_layers.<name>] to region.toml")
    pop = pop.copy()
    pop["population_total"] = pop["population"]
    pop["population"] = demand_values(pop, terms)
    return pop[pop["population"] > 0]


def _demand_codes(region: Region, m: SiteModelSpec) -> set[Any]:
    """Admin codes of the units whose people are a model's demand (``demand_levels``)."""
    levels = m.demand_levels
    b = region.boundaries
    if b is None or "level" not in b.columns:
        raise GeoplanInputError(f"model '{m.name}': demand_levels needs boundaries with "
                                "a 'level' column", field="demand_levels")
    codes = set(b.loc[b["level"].isin(levels), "admin_code"])
    if not codes:
        raise GeoplanInputError(f"model '{m.name}': no admin units of level(s) {levels}",
                                field="demand_levels",
                                hint=f"levels present: {sorted(b['level'].unique())}")
    return codes


def _profile(mode: str, profiles: Mapping[str, Any] | None) -> Any:
    """The travel profile of ``mode``: the scenario's own, or the mode name (defaults)."""
    return profiles[mode] if profiles is not None else mode


def _as_site_model(m: SiteModelSpec) -> SiteModelSpec:
    """The model with its sites spelled out: a function-centre model's hosts are existing
    institutions of the host types (its candidates, upgraded)."""
    if m.kind == "function_centres":
        return replace(m, upgrade_types=m.host_types, candidate_types=None,
                       existing_types=None)
    return m


def site_problem(region: Region, m: SiteModelSpec, *, max_snap_m: float = 1000.0,
                 profiles: Mapping[str, Any] | None = None) -> Any:
    """Build the :class:`~geoplan.optimize.gis.SiteProblem` of a site-choosing model.

    Parameters
    ----------
    region
        The loaded region.
    m
        The validated ``[[model]]`` table.
    max_snap_m
        Maximum snapping distance.
    profiles
        The scenario's travel profiles (:attr:`Scenario.profiles`); None: defaults.

    Returns
    -------
    geoplan.optimize.gis.SiteProblem
    """
    from geoplan.optimize.gis import build_problem
    m = _as_site_model(m)
    existing = _facilities_of(region, m.existing_types, "existing_types", m.name)
    return build_problem(_demand(region, m), _candidates_of(region, m), region.network,
                         _profile(m.mode, profiles), float(m.minutes), existing=existing,
                         boundaries=region.boundaries, cost_column="cost",
                         max_snap_m=max_snap_m)


#: The site-rule keys of a ``[[model]]`` table, passed to the models' GIS front doors
#: under the same names (see :mod:`geoplan.optimize.site_rules`).
RULE_KEYS = ("force_open", "force_closed", "max_new_per_unit")


def _solver_kw(m: ModelSpec) -> dict[str, Any]:
    """Solver options, site rules and ``verbose`` of a model table (only those set).

    Only the options the table sets are passed, so a front door without one of them
    still runs tables that do not use it.
    """
    kw = {k: getattr(m, k) for k in ("solver", "time_limit", "gap")
          if getattr(m, k) is not None}
    # as TOML wrote them (lists, dicts): they reach the plan's details and summary.json
    kw.update({k: _plain(getattr(m, k)) for k in RULE_KEYS
               if getattr(m, k) not in (None, ())})
    if m.verbose:
        kw["verbose"] = True
    return kw


def _check_door(door: Any, kw: dict[str, Any], kind: str) -> None:
    """Reject options a model's front door does not take (before it runs).

    Raises
    ------
    GeoplanInputError
        Naming the first option the door's signature lacks (doors with ``**kwargs``
        pass everything on and are not checked here).
    """
    params = inspect.signature(door).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    missing = [k for k in kw if k not in params]
    if missing:
        raise GeoplanInputError(f"model kind '{kind}' does not take '{missing[0]}'",
                                field=missing[0], hint="remove it from the [[model]] table")


def standards(region: Region, m: SiteModelSpec, units: Any) -> np.ndarray:
    """The travel-time standard (minutes) a model holds each demand to, by admin unit.

    ``urban_minutes`` in units of the ``urban_levels`` and ``rural_minutes`` elsewhere
    when the model sets them (emergency stations: 12 urban / 20 rural), else its
    ``minutes`` everywhere. ``units`` gives each demand's admin code.
    """
    n = len(units)
    if getattr(m, "urban_minutes", None) is None:
        return np.full(n, float(m.minutes))
    b = region.boundaries
    urban_codes = set(b.loc[b["level"].isin(m.urban_levels), "admin_code"]) \
        if b is not None and "level" in b.columns else set()
    urban = np.isin(np.asarray(units, dtype=object), list(urban_codes))
    return np.where(urban, float(m.urban_minutes), float(m.rural_minutes))


def _urban_rural_minutes(region: Region, problem: Any, m: SiteModelSpec) -> np.ndarray:
    # the cells' own (finest) units: a model's level may have grouped problem.unit
    cells = problem.cells
    unit = (cells["admin_code"].to_numpy(dtype=object) if "admin_code" in cells.columns
            else np.full(len(problem.demand), None))
    return standards(region, m, unit)


def _problem_key(m: ModelSpec) -> tuple[Any, ...]:
    keys = ("kind", "mode", "minutes", "existing_types", "candidate_types", "upgrade_types",
            "host_types", "demand_levels", "demand")
    return tuple((k, str(getattr(m, k, None))) for k in keys
                 if k != "kind" or m.kind == "function_centres")


def at_level(problem: Any, region: Region, level: str) -> Any:
    """The site problem with its demand and sites grouped by the boundary column ``level``.

    A model's ``level`` (default ``admin_code``, the finest units) sets the units of its
    per-unit table, of ``unit_min_share`` and of ``max_new_per_unit``: with
    ``level = "district_code"`` every demand cell and site counts in its district. The
    travel times are shared; only the unit labels change.
    """
    b = None if level == "admin_code" or region is None else region.boundaries
    if b is None or level not in b.columns:
        return problem
    to_level = dict(zip(b["admin_code"], b[level], strict=False))
    name_col = level[:-len("_code")] + "_name" if level.endswith("_code") else None
    names = (dict(zip(b[level], b[name_col], strict=False))
             if name_col in b.columns else {v: str(v) for v in to_level.values()})

    def up(codes: Any) -> np.ndarray:
        return np.array([to_level.get(c) for c in codes], dtype=object)
    sites = problem.sites.copy()
    if "admin_code" in sites.columns:
        sites["admin_code"] = up(sites["admin_code"])
        sites["admin_name"] = [names.get(c) for c in sites["admin_code"]]
    unit = None if problem.unit is None else up(problem.unit)
    return replace(problem, unit=unit, sites=sites, unit_names=names)


def _site_plan(region: Region, problem: Any, m: SiteModelSpec, kw: dict[str, Any],
               tables: dict[str, pd.DataFrame]) -> Any:
    """Run a site-choosing model (every kind but beds) on its site problem."""
    kind = m.kind
    minutes = float(m.minutes)
    if getattr(m, "balanced", False):
        return _balanced_plan(region, problem, m, kw)
    if getattr(m, "capacity", None):
        return _capacitated_plan(problem, m, kw)
    if kind == "set_covering":
        from geoplan.optimize.covering import set_covering_from_problem
        _check_door(set_covering_from_problem, kw, kind)
        plan = set_covering_from_problem(problem, minutes,
                                         target_share=m.target_share,
                                         unit_min_share=m.unit_min_share, **kw)
    elif kind == "max_covering":
        from geoplan.optimize.covering import max_covering_from_problem
        _check_door(max_covering_from_problem, kw, kind)
        plan = max_covering_from_problem(problem, minutes, p=m.p,
                                         budget=m.budget, **kw)
    elif kind == "tradeoff":
        from geoplan.optimize.tradeoff import tradeoff_curve_from_problem
        _check_door(tradeoff_curve_from_problem, kw, kind)
        plan, curve = tradeoff_curve_from_problem(problem, minutes, p_max=m.p_max, **kw)
        tables["curve"] = curve
    elif kind == "p_median":
        from geoplan.optimize.median import p_median_from_problem
        _check_door(p_median_from_problem, kw, kind)
        plan = p_median_from_problem(problem, m.p, **kw)
    elif kind == "p_center":
        from geoplan.optimize.center import p_center_from_problem
        standards = (_urban_rural_minutes(region, problem, m)
                     if m.urban_minutes is not None else None)
        if m.p is None:
            kw["target_share"] = m.target_share
        _check_door(p_center_from_problem, kw, kind)
        plan = p_center_from_problem(problem, p=m.p, standards=standards, **kw)
    elif kind == "function_centres":
        from geoplan.optimize.function_centres import function_centres_from_problem
        plan = function_centres_from_problem(
            problem, minutes, types=m.centre_types, host_types=None,
            total=m.total, per_type=m.per_type,
            max_types_per_host=m.max_types_per_host, min_share=m.min_share,
            **kw)
    else:  # pragma: no cover - validated in scenario_file
        raise GeoplanInputError(f"unknown model kind {kind!r}", field="kind")
    return plan


def model_zones(region: Region, m: Any, crs: Any) -> Any:
    """The zones of a balanced model (None: its admin units), in ``crs``."""
    from geoplan.inputs.zones import read_zones, sector_zones
    if m.zones in (None, "units"):
        return None
    if m.zones == "sectors":
        b = region.boundaries
        if b is None:
            raise GeoplanInputError(f"model '{m.name}': sector zones are cut to the region's "
                                    "boundaries, and it has none", field="zones",
                                    hint="add boundaries to the region")
        return sector_zones(tuple(m.zone_centre), float(m.zone_radius_km or 5.0),
                            extent=b.to_crs(crs), n_sectors=int(m.zone_sectors or 4))
    return read_zones(m.zones, crs=crs)


def _balanced_plan(region: Region, problem: Any, m: Any, kw: dict[str, Any]) -> Any:
    """A set covering, maximal covering (:mod:`geoplan.optimize.balanced`) or p-median
    (:mod:`geoplan.optimize.balanced_median`) balanced over zones."""
    from geoplan.optimize.balanced import balanced_covering_from_problem
    zones = model_zones(region, m, problem.cells.crs)
    if m.kind == "p_median":
        from geoplan.optimize.balanced_median import balanced_p_median_from_problem
        _check_door(balanced_p_median_from_problem, kw, m.kind)
        return balanced_p_median_from_problem(
            problem, m.p, zones=zones, zone_min_sites=_plain(m.zone_min_sites),
            zone_max_sites=_plain(m.zone_max_sites), **kw)
    _check_door(balanced_covering_from_problem, kw, m.kind)
    common = dict(zones=zones, zone_min_sites=_plain(m.zone_min_sites),
                  zone_max_sites=_plain(m.zone_max_sites), zone_min_share=m.zone_min_share,
                  **kw)
    if m.kind == "set_covering":
        return balanced_covering_from_problem(problem, float(m.minutes), objective="sites",
                                              target_share=m.target_share, **common)
    return balanced_covering_from_problem(
        problem, float(m.minutes), objective="max_min" if m.fairness else "coverage",
        p=m.p, budget=m.budget, **common)


def _capacitated_plan(problem: Any, m: Any, kw: dict[str, Any]) -> Any:
    """A set covering, maximal covering or p-median with ``capacity = true``
    (:mod:`geoplan.optimize.capacity`)."""
    from geoplan.optimize import capacity as cap

    kw = dict(kw)
    kw.update({k: getattr(m, k) for k in ("persons_per_bed", "new_site_capacity",
                                           "single_source") if getattr(m, k) is not None})
    minutes = float(m.minutes)
    if m.kind == "set_covering":
        door = cap.capacitated_set_covering_from_problem
        _check_door(door, kw, m.kind)
        return door(problem, minutes, target_share=m.target_share, **kw)
    if m.kind == "max_covering":
        door = cap.capacitated_max_covering_from_problem
        _check_door(door, kw, m.kind)
        return door(problem, minutes, p=m.p, budget=m.budget, **kw)
    door = cap.capacitated_p_median_from_problem
    _check_door(door, kw, m.kind)
    return door(problem, m.p, **kw)


def tier_institutions(region: Region, m: Any) -> gpd.GeoDataFrame | None:
    """The facilities a tiered plan may place at its tiers (for its map)."""
    return _tier_hosts(region, m)[0]


def _tier_hosts(region: Region, m: Any) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A tiered plan's sites: the facilities of every tier's existing and upgrade types
    (institutions) and the candidate sites of every tier's candidate types."""
    types = sorted({t for tier in m.tiers for k in ("existing_types", "upgrade_types")
                    for t in (getattr(tier, k) or ())})
    fac = region.facilities
    inst = fac[fac["type"].isin(types)] if fac is not None and types else None
    if inst is None or inst.empty:
        inst = fac.iloc[0:0] if fac is not None else None
    ctypes = sorted({t for tier in m.tiers for t in (tier.candidate_types or ())})
    cand = None
    if ctypes:
        c = region.candidates
        col = "site_type" if "site_type" in c.columns else "type"
        cand = c[c[col].isin(ctypes)].copy()
        cand["type"] = cand[col]
    return inst, cand


def _tier_matrix(m: Any, sites: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per site: its tier today, the tiers it may take, and the cost of taking each.

    A facility of a tier's ``existing_types`` is at that tier; a facility of its
    ``upgrade_types`` may be designated (or upgraded) to it at ``upgrade_cost``; a
    candidate of its ``candidate_types`` may be built at ``new_site_cost`` (default: the
    candidate's own cost). NaN cost: unknown.
    """
    L, n = len(m.tiers), len(sites)  # noqa: N806
    typ = sites["type"].astype(str).to_numpy()
    inst = sites["kind"].to_numpy() == "existing"
    own = pd.to_numeric(sites["cost"], errors="coerce").to_numpy(float)
    e = np.zeros(n, np.int64)
    allowed = np.zeros((n, L), bool)
    cost = np.full((n, L), np.nan)
    for k, tier in enumerate(m.tiers):
        today = inst & np.isin(typ, list(tier.existing_types or ()))
        e[today & (e == 0)] = k + 1
        up = inst & np.isin(typ, list(tier.upgrade_types or ()))
        new = ~inst & np.isin(typ, list(tier.candidate_types or ()))
        allowed[:, k] = today | up | new
        cost[up, k] = float(tier.upgrade_cost or 0.0)
        cost[new, k] = (float(tier.new_site_cost) if tier.new_site_cost is not None
                        else own[new])
        cost[today, k] = 0.0
    return e, allowed, cost


def _tiered_plan(region: Region, m: Any, *, max_snap_m: float,
                 profiles: Mapping[str, Any] | None, kw: dict[str, Any]) -> Any:
    """A tiered plan (:mod:`geoplan.optimize.tiered`): one site problem per travel mode
    of its tiers, the referral times between its sites, and its tiers' sites and costs."""
    from geoplan.optimize.gis import between_sites, build_problem
    from geoplan.optimize.tiered import tiered_plan_from_problems
    inst, cand = _tier_hosts(region, m)
    demand = _demand(region, m)
    problems: dict[str, Any] = {}
    for mode in dict.fromkeys(t.mode for t in m.tiers):
        longest = max(t.longest_minutes for t in m.tiers if t.mode == mode)
        problems[mode] = build_problem(demand, cand, region.network,
                                       _profile(mode, profiles), longest, existing=inst,
                                       boundaries=region.boundaries, cost_column="cost",
                                       max_snap_m=max_snap_m)
    first = problems[m.tiers[0].mode]
    unit = (first.cells["admin_code"].to_numpy(dtype=object)
            if "admin_code" in first.cells.columns else np.full(first.n_cells, None))
    minutes = [standards(region, SimpleNamespace(
        minutes=t.longest_minutes, urban_minutes=t.urban_minutes,
        rural_minutes=t.rural_minutes, urban_levels=m.urban_levels), unit)
        if t.urban_minutes is not None
        else float(t.minutes) for t in m.tiers]
    e, allowed, cost = _tier_matrix(m, first.sites)
    need_cost = m.objective == "cost" or m.budget is not None
    unknown = np.isnan(cost) & allowed
    if unknown.any() and need_cost:
        j, k = np.argwhere(unknown)[0]
        raise GeoplanInputError(
            f"model '{m.name}': site {first.sites['site_id'].iloc[j]} of tier "
            f"'{m.tiers[k].name}' has no cost, and the plan counts costs",
            field="new_site_cost", hint="give the tier new_site_cost (or the candidates a "
            "cost column)")
    referral = [t.referral_minutes for t in m.tiers]
    times = None
    if any(r is not None for r in referral):
        times = between_sites(first.sites, region.network, _profile(m.referral_mode, profiles),
                              max(r for r in referral if r is not None), max_snap_m=max_snap_m)
    plan = tiered_plan_from_problems(
        [at_level(problems[t.mode], region, m.level) for t in m.tiers], minutes,
        counts=[t.counts for t in m.tiers], referral_times=times, referral_minutes=referral,
        existing_tier=e, allowed=allowed,
        costs=None if unknown.any() else np.nan_to_num(cost, nan=0.0),
        tier_names=[t.name for t in m.tiers], tier_weights=[t.weight for t in m.tiers],
        objective=m.objective, budget=m.budget, min_share=[t.min_share for t in m.tiers],
        **kw)
    plan.details["tier_names_zh"] = [t.name_zh or t.name for t in m.tiers]
    plan.details["referral_mode"] = m.referral_mode
    table = plan.details.get("tiers")
    if isinstance(table, pd.DataFrame):          # the standards as the file gives them
        table["minutes"] = [float(t.minutes if t.minutes is not None else t.urban_minutes)
                            for t in m.tiers]
        if any(t.rural_minutes is not None for t in m.tiers):
            table.insert(4, "rural_minutes", [float(t.rural_minutes or t.minutes)
                                              for t in m.tiers])
    return plan


def run_model(region: Region, m: ModelSpec, *, max_snap_m: float = 1000.0,
              problems: dict[Any, Any] | None = None,
              profiles: Mapping[str, Any] | None = None
              ) -> tuple[Any, dict[str, pd.DataFrame]]:
    """Run one validated ``[[model]]`` on a region.

    Parameters
    ----------
    region
        The loaded region.
    m
        The validated model table (see :data:`geoplan.scenario.spec.MODEL_KEYS`).
    max_snap_m
        Maximum snapping distance.
    problems
        Site problems already built in this run, by what defines them (shared).
    profiles
        The scenario's travel profiles; None: defaults.

    Returns
    -------
    plan : geoplan.optimize.plan.Plan
    tables : dict of pandas.DataFrame
        Tables to write (``units``, ``sites``, ``curve`` ...).
    """
    kind = m.kind
    kw = _solver_kw(m)
    tables: dict[str, pd.DataFrame] = {}
    if kind == "tiered":
        plan = _tiered_plan(region, m, max_snap_m=max_snap_m, profiles=profiles, kw=kw)
    elif kind == "beds_to_ratio":
        from geoplan.optimize.beds import beds_to_ratio_from_region
        plan = beds_to_ratio_from_region(
            region, level=m.level, ratio=m.ratio, hospital_types=m.hospital_types,
            cost_per_bed=m.cost_per_bed, max_add_share=m.max_add_share, max_add=m.max_add,
            new_site_types=m.new_site_types,
            new_site_fixed_cost=m.new_site_fixed_cost, new_site_min_beds=m.new_site_min_beds,
            new_site_max_beds=m.new_site_max_beds, **kw)
    else:
        key = (_problem_key(m), max_snap_m)
        problem = problems.get(key) if problems is not None else None
        if problem is None:
            problem = site_problem(region, m, max_snap_m=max_snap_m, profiles=profiles)
            if problems is not None:
                problems[key] = problem
        plan = _site_plan(region, at_level(problem, region, m.level), m, kw, tables)
    if plan.by_unit is not None:
        tables["units"] = pd.DataFrame(plan.by_unit)
    if plan.sites is not None:
        s = pd.DataFrame(plan.sites).drop(columns="geometry", errors="ignore")
        tables["sites"] = s
    if isinstance(plan.explanation, pd.DataFrame):      # a table of reasons: as it is
        tables["explanation"] = plan.explanation
    elif plan.explanation is not None:
        tables["explanation"] = pd.DataFrame({"explanation": [str(plan.explanation)]})
    terms = demand_terms(m)
    if terms is not None:                       # whose people the figures count
        plan.details["demand"] = demand_label(region, terms)
    for name in ("zones", "tiers"):           # balanced plans' zones, tiered plans' tiers
        if isinstance(plan.details.get(name), pd.DataFrame):
            tables[name] = plan.details[name]
    return plan, tables


def site_types(region: Region, m: ModelSpec) -> gpd.GeoDataFrame | None:
    """The existing facilities of the model's ``existing_types`` (None without them)."""
    fac = region.facilities
    types = getattr(m, "existing_types", None)
    if fac is None or not types:
        return None
    return fac[fac["type"].isin(types)]


def standard_minutes(m: Any) -> float:
    """The longest time standard a model holds its demand to (a tiered plan: its lowest
    tier's, the one its cells are drawn with)."""
    if getattr(m, "kind", "") == "tiered":
        return float(_lowest_tier(m).minutes)
    return float(m.minutes)


def _lowest_tier(m: Any) -> Any:
    """A tiered plan as a site model of its lowest tier: every facility of the plan gives
    that tier's service, so its cells are held to that tier's standard (the facilities of
    every tier today before the plan)."""
    low = m.tiers[-1]
    return SimpleNamespace(
        kind=m.kind, name=m.name, mode=low.mode, minutes=low.longest_minutes,
        urban_minutes=low.urban_minutes, rural_minutes=low.rural_minutes,
        urban_levels=m.urban_levels, demand_levels=m.demand_levels, demand=m.demand,
        existing_types=tuple(t for tier in m.tiers for t in (tier.existing_types or ())),
        candidate_types=low.candidate_types, upgrade_types=low.upgrade_types)


def plan_cells(region: Region, m: ModelSpec, plan: Any, *, max_snap_m: float,
               profiles: Mapping[str, Any] | None = None) -> Any:
    """Population cells with minutes to the nearest site before and after the plan.

    For the plan's pages: ``minutes`` (existing sites of ``existing_types``) and
    ``minutes_after`` (with the plan's new sites) per cell, ``standard_min`` (the
    standard the model holds the cell to: :func:`standards`; NaN outside its demand
    levels) and ``meets_before``/``meets_after``; None for a model without a mode or a
    feasible plan with new sites. A tiered plan's cells are its lowest tier's
    (:func:`_lowest_tier`).
    """
    from geoplan.access.coverage import coverage_by_cell, travel_context
    from geoplan.maps.canvas import plan_sites
    if getattr(m, "kind", "") == "tiered":
        m = _lowest_tier(m)
    elif not isinstance(m, SiteModelSpec):
        return None
    if plan.sites is None or not plan.feasible:
        return None
    before = site_types(region, m)
    new = plan_sites(plan, region.candidates, region.facilities)
    new = new[new["status"] != "existing"]          # capacitated plans list them too
    if new.empty:
        return None
    new = new.assign(type="__plan__")
    ctx = travel_context(region.network, _profile(m.mode, profiles), region.population,
                         max_snap_m=max_snap_m)
    minutes = [float(m.minutes)]
    if before is not None and len(before):
        cells = coverage_by_cell(ctx, before, minutes)
        after_sites = pd.concat([before[["id", "type", "geometry"]],
                                 new[["id", "type", "geometry"]].to_crs(before.crs)],
                                ignore_index=True)
    else:
        cells = coverage_by_cell(ctx, new, minutes)
        cells["minutes"] = float("nan")
        after_sites = new[["id", "type", "geometry"]]
    after = coverage_by_cell(ctx, gpd.GeoDataFrame(after_sites, crs=new.crs), minutes)
    cells["minutes_after"] = after["minutes"].to_numpy()
    std = standards(region, m, cells["admin_code"].to_numpy())
    if m.demand_levels:                  # cells outside the model's demand: no standard
        std = np.where(cells["admin_code"].isin(_demand_codes(region, m)), std, np.nan)
    cells["standard_min"] = std
    for when, col in (("before", "minutes"), ("after", "minutes_after")):
        t = cells[col].to_numpy(float)
        cells[f"meets_{when}"] = np.isfinite(std) & (np.nan_to_num(t, nan=np.inf) <= std)
    terms = demand_terms(m)
    if terms is not None:
        # the model's demand is a group (or a weighted sum): the page counts the same
        pop = region.population
        group = pd.Series(demand_values(pop, terms), index=pop["cell_id"].to_numpy())
        cells["population_total"] = cells["population"]
        cells["population"] = cells["cell_id"].map(group).fillna(0.0).to_numpy(float)
    served = plan.details.get("served_share")
    if served is not None:
        # a capacitated plan: a cell meets its standard when a site within it has room
        # for all its people (the model's own assignment, not the nearest site)
        share = served.set_index("cell_id")
        for when in ("before", "after"):
            v = cells["cell_id"].map(share[when]).to_numpy(float)
            cells[f"served_{when}"] = v
            cells[f"meets_{when}"] = np.isfinite(std) & (np.nan_to_num(v) >= 1 - 1e-9)
    return cells


def gaps_model(m: Any) -> Any:
    """The site model whose candidates close a plan's gaps (a tiered plan: its lowest
    tier's hosts and candidate sites)."""
    return _lowest_tier(m) if getattr(m, "kind", "") == "tiered" else m


def plan_gaps(cells: Any, when: str = "after", *, region: Region | None = None,
              m: SiteModelSpec | None = None, chosen: Any = (), max_snap_m: float = 1000.0,
              profiles: Mapping[str, Any] | None = None) -> Any:
    """Gap areas of a plan's cells: demand cells not within their standard.

    ``cells`` is :func:`plan_cells`'s table; ``when`` is ``"before"`` or ``"after"`` the
    plan. Returns :func:`geoplan.access.gaps.group_gaps` split at unit borders (largest
    first; each area one unit's). With ``region`` and the model ``m``, each area is also
    named by its nearest place (:func:`geoplan.access.gaps.name_gaps`, places of the
    network file) and lists the model's candidate sites not ``chosen`` (ids) by the plan
    that would close it within each cell's standard
    (:func:`geoplan.access.coverage.closing_sites`).
    """
    from geoplan.access.coverage import closing_sites, travel_context
    from geoplan.access.gaps import gap_members, group_gaps, name_gaps
    from geoplan.inputs.osm import places_of
    m = gaps_model(m) if m is not None else None
    if when not in ("before", "after"):
        raise GeoplanInputError(f"unknown side '{when}'", field="when",
                                hint="use 'before' or 'after'")
    std = cells["standard_min"].to_numpy(float)
    out = group_gaps(cells, np.isfinite(std) & ~cells[f"meets_{when}"].to_numpy(),
                     by_unit=True)
    if region is None or m is None or region.network is None:
        return out
    ctx = travel_context(region.network, _profile(m.mode, profiles), region.population,
                         max_snap_m=max_snap_m)
    members = gap_members(out, ctx.population)          # once for naming and sites
    out = name_gaps(out, cells, places_of(region.network), members)
    m = _as_site_model(m)
    cands = _candidates_of(region, m)
    cands = cands[~cands["id"].astype(str).isin({str(c) for c in chosen})]
    return closing_sites(ctx, out, cands, std, members=members)

"""Maps and the report of a scenario run (the last step of :func:`geoplan.scenario.run_scenario`).

Why separate: the runner decides *what* was computed; this module only turns results
into pages - one coverage map per coverage question, one plan map (before/after) per
site model, and one self-contained report with every table, plan and map.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .region import Region
from .scenario_file import Scenario

__all__ = ["write_maps_and_report"]


def _site_types(region: Region, m: dict[str, Any]) -> gpd.GeoDataFrame | None:
    fac = region.facilities
    types = m.get("existing_types")
    if fac is None or not types:
        return None
    return fac[fac["type"].isin(types)]


def _plan_cells(sc: Scenario, region: Region, m: dict[str, Any], plan: Any) -> Any:
    """Population cells with minutes to the nearest site before and after the plan."""
    from .coverage import coverage_by_cell, travel_context
    from .maps import plan_sites
    if "mode" not in m or plan.sites is None or not plan.feasible:
        return None
    before = _site_types(region, m)
    new = plan_sites(plan, region.candidates, region.facilities)
    if new.empty:
        return None
    new = new.assign(type="__plan__")
    ctx = travel_context(region.network, m["mode"], region.population,
                         max_snap_m=sc.travel["max_snap_m"])
    minutes = [float(m["minutes"])]
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
    return cells


def write_maps_and_report(sc: Scenario, region: Region, res: Any, out: Path) -> dict[str, Any]:
    """Write the maps and the report of a run into ``out``.

    Parameters
    ----------
    sc
        The scenario.
    region
        Its loaded region.
    res
        The :class:`~geoplan.scenario.RunResult` so far (tables and plans).
    out
        The (staging) output folder.

    Returns
    -------
    dict
        Names of the files written (relative to ``out``).
    """
    from .coverage import coverage_by_cell, travel_context
    from .maps import MapInputs, build_map, save_map
    from .report import ReportInputs, write_report
    lang = sc.language
    zh = lang == "zh"
    maps: dict[str, Any] = {}
    written: dict[str, Any] = {"maps": []}
    for q in sc.coverage:
        mode = q["modes"][-1]
        ctx = travel_context(region.network, mode, region.population,
                             max_snap_m=sc.travel["max_snap_m"])
        fac = region.facilities
        if q.get("types"):
            fac = fac[fac["type"].isin(q["types"])]
        cells = coverage_by_cell(ctx, fac, q["minutes"])
        units = res.tables[f"coverage_{q['name']}"]
        units = units[units["mode"] == mode].drop(columns="mode")
        title = f"{sc.label()}: {q['name']}"
        canvas = build_map(MapInputs(
            boundaries=region.boundaries, population=cells, facilities=fac,
            units=units, gaps=res.tables.get(f"gaps_{q['name']}_{mode}"),
            minutes=q["minutes"]), title=title, subtitle=mode, lang=lang,
            vocabulary=region.vocabulary)
        if sc.maps:
            name = f"map_{q['name']}.html"
            save_map(canvas, out / name)
            written["maps"].append(name)
        maps[("覆盖：" if zh else "Coverage: ") + q["name"]] = canvas
    tradeoff = None
    for m in sc.models:
        plan = res.plans.get(m["name"])
        if plan is None:
            continue
        if m["kind"] == "tradeoff":
            tradeoff = res.tables.get(f"plan_{m['name']}_curve")
            continue
        if plan.sites is None or not plan.feasible:
            continue
        cells = _plan_cells(sc, region, m, plan)
        canvas = build_map(MapInputs(
            boundaries=region.boundaries, population=cells if cells is not None
            else region.population, facilities=_site_types(region, m) if m.get(
                "existing_types") else region.facilities, plan=plan,
            minutes=[float(m["minutes"])] if "minutes" in m else (15.0,)),
            title=f"{sc.label()}: {m['name']}", subtitle=m["kind"], lang=lang,
            vocabulary=region.vocabulary)
        if sc.maps:
            name = f"map_{m['name']}.html"
            save_map(canvas, out / name)
            written["maps"].append(name)
        maps[("方案：" if zh else "Plan: ") + m["name"]] = canvas
    if sc.report:
        units = None
        first_cov = next(iter(sc.coverage), None)
        if first_cov is not None:
            units = res.tables[f"coverage_{first_cov['name']}"]
        plans = {k: p for k, p in res.plans.items()
                 if next(mm for mm in sc.models if mm["name"] == k)["kind"] != "tradeoff"}
        data = ReportInputs(
            title=sc.label(), subtitle=sc.description or "", region=region,
            inputs={("情景文件" if zh else "scenario file"): sc.path.name},
            units=units, plans=plans, tradeoff=tradeoff, maps=maps)
        files = write_report(data, out / "report", lang=lang, embed_maps=True)
        written["report"] = files.html.relative_to(out).as_posix()
    return written

"""Maps and the report of a scenario run.

The last step of :func:`geoplan.scenario.run.run_scenario`.

Why separate: the runner decides *what* was computed; this module only turns results
into pages - one coverage map per coverage question, one plan map (before/after) per
site model, and one self-contained report with every table, plan and map. Every figure
drawn comes from the run's result (``RunResult.tables``, ``.plans`` and ``.cells``):
nothing here builds a travel context or computes coverage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from geoplan.inputs.region import Region
from geoplan.scenario.models import site_types
from geoplan.scenario.spec import Scenario, SiteModelSpec

__all__ = ["write_maps_and_report"]


def write_maps_and_report(sc: Scenario, region: Region, res: Any, out: Path) -> dict[str, Any]:
    """Write the maps and the report of a run into ``out``.

    Parameters
    ----------
    sc
        The scenario.
    region
        Its loaded region.
    res
        The :class:`~geoplan.scenario.run.RunResult` so far (tables and plans).
    out
        The (staging) output folder.

    Returns
    -------
    dict
        Names of the files written (relative to ``out``).
    """
    from geoplan.maps.canvas import MapInputs, build_map, save_map
    from geoplan.maps.report import ReportInputs, write_report
    lang = sc.language
    zh = lang == "zh"
    maps: dict[str, Any] = {}
    written: dict[str, Any] = {"maps": []}
    for q in sc.coverage:
        mode = q.modes[-1]
        fac = region.facilities
        if q.types:
            fac = fac[fac["type"].isin(q.types)]
        cells = res.cells[f"coverage_{q.name}"]
        units = res.tables[f"coverage_{q.name}"]
        units = units[units["mode"] == mode].drop(columns="mode")
        title = f"{sc.label()}: {q.name}"
        canvas = build_map(MapInputs(
            boundaries=region.boundaries, population=cells, facilities=fac,
            units=units, gaps=res.tables.get(f"gaps_{q.name}_{mode}"),
            minutes=q.minutes), title=title, subtitle=mode, lang=lang,
            vocabulary=region.vocabulary)
        if sc.maps:
            name = f"map_{q.name}.html"
            save_map(canvas, out / name)
            written["maps"].append(name)
        maps[("覆盖：" if zh else "Coverage: ") + q.name] = canvas
    tradeoff = None
    for m in sc.models:
        plan = res.plans.get(m.name)
        if plan is None:
            continue
        if m.kind == "tradeoff":
            tradeoff = res.tables.get(f"plan_{m.name}_curve")
            continue
        if plan.sites is None or not plan.feasible:
            continue
        cells = res.cells.get(f"plan_{m.name}")
        canvas = build_map(MapInputs(
            boundaries=region.boundaries, population=cells if cells is not None
            else region.population, facilities=site_types(region, m) if getattr(
                m, "existing_types", None) else region.facilities, plan=plan,
            minutes=[float(m.minutes)] if isinstance(m, SiteModelSpec) else (15.0,)),
            title=f"{sc.label()}: {m.name}", subtitle=m.kind, lang=lang,
            vocabulary=region.vocabulary)
        if sc.maps:
            name = f"map_{m.name}.html"
            save_map(canvas, out / name)
            written["maps"].append(name)
        maps[("方案：" if zh else "Plan: ") + m.name] = canvas
    if sc.report:
        units = None
        first_cov = next(iter(sc.coverage), None)
        if first_cov is not None:
            units = res.tables[f"coverage_{first_cov.name}"]
        plans = {k: p for k, p in res.plans.items()
                 if next(mm for mm in sc.models if mm.name == k).kind != "tradeoff"}
        data = ReportInputs(
            title=sc.label(), subtitle=sc.description or "", region=region,
            inputs={("情景文件" if zh else "scenario file"): sc.path.name},
            units=units, plans=plans, tradeoff=tradeoff, maps=maps)
        files = write_report(data, out / "report", lang=lang, embed_maps=True)
        written["report"] = files.html.relative_to(out).as_posix()
    return written

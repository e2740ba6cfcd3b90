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

from geoplan import labels
from geoplan.inputs.region import Region
from geoplan.scenario.models import site_types
from geoplan.scenario.spec import Scenario, SiteModelSpec

__all__ = ["write_maps_and_report"]


def _unique(label: str, taken: dict[str, Any]) -> str:
    """``label``, numbered "label (2)" when a page already shows it (two unnamed models of
    one kind)."""
    n, out = 1, label
    while out in taken:
        n += 1
        out = f"{label} ({n})"
    return out


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
        title = labels.text("map.title", lang, scenario=sc.label(), name=q.label(lang))
        canvas = build_map(MapInputs(
            boundaries=region.boundaries, population=cells, facilities=fac,
            units=units, gaps=res.tables.get(f"gaps_{q.name}_{mode}"),
            minutes=q.minutes), title=title, subtitle=labels.mode(mode, lang), lang=lang,
            vocabulary=region.vocabulary)
        if sc.maps:
            name = f"map_{q.name}.html"
            save_map(canvas, out / name)
            written["maps"].append(name)
        maps[_unique(labels.text("report.coverage_map", lang, name=q.label(lang)), maps)] = canvas
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
            title=labels.text("map.title", lang, scenario=sc.label(), name=m.label(lang)),
            subtitle=labels.kind(m.kind, lang), lang=lang,
            vocabulary=region.vocabulary)
        if sc.maps:
            name = f"map_{m.name}.html"
            save_map(canvas, out / name)
            written["maps"].append(name)
        maps[_unique(labels.text("report.plan_map", lang, name=m.label(lang)), maps)] = canvas
    if sc.report:
        units = None
        first_cov = next(iter(sc.coverage), None)
        if first_cov is not None:
            units = res.tables[f"coverage_{first_cov.name}"]
        specs = {mm.name: mm for mm in sc.models}
        plans: dict[str, Any] = {}
        for k, p in res.plans.items():
            if specs[k].kind != "tradeoff":
                plans[_unique(specs[k].label(lang), plans)] = p
        data = ReportInputs(
            title=sc.label(), subtitle=sc.describe(), region=region,
            inputs={labels.text("report.scenario_file", lang): sc.path.name},
            units=units, plans=plans, tradeoff=tradeoff, maps=maps)
        files = write_report(data, out / "report", lang=lang, embed_maps=True)
        written["report"] = files.html.relative_to(out).as_posix()
    return written

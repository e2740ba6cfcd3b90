"""Run a scenario end to end: inputs -> coverage -> models -> tables, maps, report, summary.

Why: a planning question ("fewest new insurance points to reach 95 %") is answered by a
chain of steps; running the chain from one validated file (:mod:`geoplan.scenario.spec`)
makes the answer reproducible. Every run writes, into its output folder:

- ``coverage_<name>.csv`` / ``.gpkg`` per coverage question, ``gaps_<name>_<mode>.gpkg``
  (gap areas split by unit, named by the nearest place, with the candidate sites that
  would close each);
- per model: ``plan_<name>_sites.csv`` / ``.gpkg`` (every site with ``lon_wgs84``,
  ``lat_wgs84`` and, for inputs read in GCJ-02/BD-09, ``lon_gcj02``, ``lat_gcj02`` /
  ``lon_bd09``, ``lat_bd09``), ``plan_<name>_new_sites.geojson`` / ``.kml`` (the new sites
  in WGS-84, for GIS and Google Earth) and ``plan_<name>_units.csv``; with maps or a
  report, covering models also write ``plan_<name>_gaps_after.gpkg`` (what the plan
  leaves, as the coverage gaps);
- maps and ``report.html`` unless switched off: ``map_<question>_<mode>.html`` (one per
  coverage question and travel mode) and ``map_<model>.html`` (one per plan);
- ``summary.json``: the key figures (deterministic: the same inputs give the same file);
  per model its ``figures`` (:func:`geoplan.optimize.figures.plan_figures`: sites, beds,
  cost, people and shares within the standard, mean or worst time), the figures every
  page shows;
- ``run_log.json``: all parameters, input file hashes, package versions and timings.

Outputs are staged in a hidden sibling folder and moved into place only when the run has
finished, so an interrupted run leaves the previous results (or nothing), never a
half-written folder.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoplan._atomic import staged_folder, write_table
from geoplan.inputs.region import Region, load_region
from geoplan.optimize.figures import COVERING_MODELS, plan_figures
from geoplan.scenario.spec import CoverageSpec, ModelSpec, Scenario, read_scenario

__all__ = ["RunResult", "package_versions", "run_scenario", "staged_folder"]

_PACKAGES = ("geoplan", "numpy", "pandas", "scipy", "shapely", "pyproj", "geopandas",
             "networkx", "osmnx", "rasterio", "pulp", "highspy", "folium")


@dataclass
class RunResult:
    """What a scenario run produced.

    Attributes
    ----------
    scenario
        The validated scenario.
    output
        The output folder.
    summary
        The content of ``summary.json``.
    tables
        Result tables by name (coverage and plan tables).
    plans
        Plans by model name.
    timings
        Seconds per step.
    cells
        Per-cell results the pages draw, computed by the run (only when maps or a report
        are asked for): ``coverage_<question>`` (minutes to the nearest facility, last
        mode of the question) and ``plan_<model>`` (minutes before and after the plan,
        the standard each cell is held to and whether it meets it; their gap areas
        come from :meth:`plan_gaps`).
    """

    scenario: Scenario
    output: Path
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    plans: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    problems: dict[Any, Any] = field(default_factory=dict, repr=False)
    cells: dict[str, Any] = field(default_factory=dict, repr=False)

    def plan_gaps(self, model: str, when: str = "after") -> Any:
        """Gap areas of a plan: its demand cells not within their standard, ``before`` or
        ``after`` the plan (largest first; :func:`geoplan.access.gaps.group_gaps`).

        Kept in ``tables`` as ``gaps_plan_<model>_<when>``: the run fills ``after``
        itself (named by the nearest place, with the sites that would close each area);
        ``before`` is grouped from ``cells["plan_<model>"]`` on first use, unnamed.

        Raises
        ------
        KeyError
            If the run has no cells for ``model`` (maps and report off, or no new sites).
        """
        from geoplan.scenario.models import plan_gaps
        key = f"gaps_plan_{model}_{when}"
        if key not in self.tables:
            self.tables[key] = plan_gaps(self.cells[f"plan_{model}"], when)
        return self.tables[key]


# --------------------------------------------------------------------------- plumbing


def package_versions() -> dict[str, str]:
    """Installed versions of geoplan and the libraries whose results it reports."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _input_files(sc: Scenario) -> list[Path]:
    files: list[Path] = [sc.path]
    region = sc.region / "region.toml" if sc.region.is_dir() else sc.region
    files.append(region)
    try:
        import tomllib
        manifest = tomllib.loads(region.read_text(encoding="utf-8-sig"))
        for sec in manifest.values():
            if isinstance(sec, dict) and "path" in sec:
                files.append((region.parent / sec["path"]).resolve())
    except (OSError, ValueError):
        pass
    files += [v for v in sc.inputs.values() if isinstance(v, Path)]
    if "profiles" in sc.travel:
        files.append(sc.travel["profiles"])
    return [f for f in dict.fromkeys(files) if f.is_file()]


def _clean(v: Any) -> Any:
    """JSON-ready value with floats rounded so reruns give byte-identical summaries."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        return float(f"{v:.6g}") if abs(v) < 1e6 else round(v, 1)
    if isinstance(v, Path):
        return v.as_posix()
    return v


def _write_json(data: dict[str, Any], path: Path) -> None:
    text = json.dumps(_clean(data), ensure_ascii=False, indent=2, default=str)
    path.write_text(text + "\n", encoding="utf-8")


class _Progress:
    """A tqdm bar over the steps of a run (silent when ``show`` is False)."""

    def __init__(self, total: int, show: bool, label: str) -> None:
        self.bar = None
        if show:
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc=label, unit="step", file=sys.stderr,
                            leave=False, dynamic_ncols=True)

    def step(self, what: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(what[:40])

    def done(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# --------------------------------------------------------------------------- steps


def _region(sc: Scenario, cache: dict[Any, Region] | None) -> Region:
    key = (sc.region, tuple(sorted((k, str(v)) for k, v in sc.inputs.items())))
    if cache is not None and key in cache:
        return cache[key]
    region = load_region(sc.region)
    if sc.inputs:
        from geoplan.inputs.readers import (
            read_boundaries,
            read_candidates,
            read_facilities,
            read_population,
        )
        area, b = region.area, region.boundaries
        if "boundaries" in sc.inputs:
            region.boundaries = b = read_boundaries(sc.inputs["boundaries"],
                                                    to_crs=area.crs)
        if "population" in sc.inputs:
            region.population = read_population(sc.inputs["population"], to_crs=area.crs,
                                                area=area, boundaries=b)
        if "facilities" in sc.inputs:
            region.facilities = read_facilities(
                sc.inputs["facilities"], crs=sc.inputs.get("facilities_crs"),
                to_crs=area.crs, area=area, boundaries=b, vocabulary=region.vocabulary)
        if "candidates" in sc.inputs:
            region.candidates = read_candidates(
                sc.inputs["candidates"], crs=sc.inputs.get("candidates_crs"),
                to_crs=area.crs, area=area, boundaries=b)
        if "network" in sc.inputs:
            from geoplan.inputs.readers import read_network
            region.network = read_network(sc.inputs["network"], area=area)
    if cache is not None:
        cache[key] = region
    return region


def coverage_equity(cells: Any, table: pd.DataFrame, minutes: float) -> dict[str, Any]:
    """Equity of one mode's coverage: the Gini of travel time by population (people
    beyond ``minutes``, or who reach nothing, counted at ``minutes``: ``beyond_people``),
    its mean and 90th percentile, its concentration curve at 101 population shares
    (``curve``: :func:`geoplan.access.equity.concentration_points`), and the unit with the
    lowest covered share within ``minutes``.

    Parameters
    ----------
    cells
        :func:`geoplan.access.coverage.coverage_by_cell` of the mode (``minutes``,
        ``population``).
    table
        The mode's per-unit table (:func:`geoplan.access.coverage.coverage_by_unit`).
    minutes
        The longest time of the question (the cap).
    """
    from geoplan.access.equity import concentration_points, time_equity
    raw = cells["minutes"].to_numpy(float)                           # NaN: none in reach
    w = cells["population"].to_numpy(float)
    beyond = ~(raw < minutes)
    t = np.where(beyond, np.inf, raw)
    eq = time_equity(t, w, cap_minutes=minutes)
    capped = np.minimum(np.nan_to_num(t, posinf=minutes), minutes)
    units = table[table["admin_code"].astype(str) != "total"]
    units = units[units["population"] > 0]
    col = f"share_{minutes:g}min"
    out: dict[str, Any] = {"gini": eq.gini, "mean_minutes": eq.mean_minutes,
                           "p90_minutes": eq.p90_minutes, "cap_minutes": float(minutes),
                           "beyond_people": float(w[beyond].sum())}
    if (capped * w).sum() > 0:                 # the curve the report draws (101 shares)
        out["curve"] = concentration_points(capped, w)
    if len(units) and col in units.columns:
        worst = units.loc[units[col].astype(float).idxmin()]
        out.update(worst_unit=str(worst["admin_code"]),
                   worst_unit_name=str(worst.get("admin_name", worst["admin_code"])),
                   worst_unit_share=float(worst[col]))
    return out


def plan_equity(cells: Any, cap_minutes: float) -> dict[str, Any]:
    """The Gini of travel time to the nearest site before and after a plan, and its
    concentration curves (``curve_before``/``curve_after``, 101 population shares), over
    the model's demand cells (those with a standard), people beyond ``cap_minutes`` (the
    model's search limit) counted at it."""
    from geoplan.access.equity import concentration_points, gini
    demand = np.isfinite(cells["standard_min"].to_numpy(float))
    w = cells["population"].to_numpy(float)[demand]
    out: dict[str, Any] = {"cap_minutes": cap_minutes}
    for when, col in (("before", "minutes"), ("after", "minutes_after")):
        t = cells[col].to_numpy(float)[demand]
        t = np.where(np.isfinite(t), np.minimum(t, cap_minutes), cap_minutes)
        ok = w.sum() > 0 and (t * w).sum() > 0
        out[f"gini_{when}"] = gini(t, w) if ok else float("nan")
        if ok:                                  # the curve the report draws
            out[f"curve_{when}"] = concentration_points(t, w)
    return out


def _coverage_step(sc: Scenario, region: Region, q: CoverageSpec, out: Path,
                   res: RunResult) -> dict[str, Any]:
    from geoplan.access.coverage import coverage_by_cell, coverage_by_unit, gaps, travel_context
    from geoplan.inputs.osm import places_of
    figures: dict[str, Any] = {"name": q.name, "types": q.types, "modes": {}}
    frames = []
    for mode in q.modes:
        ctx = travel_context(region.network, sc.profile(mode), region.population,
                             max_snap_m=sc.travel["max_snap_m"])
        table = coverage_by_unit(ctx, region.facilities, q.minutes, types=q.types,
                                 boundaries=region.boundaries, level=q.level)
        table.insert(0, "mode", mode)
        frames.append(table)
        total = table.iloc[-1]
        figures["modes"][mode] = {
            f"share_{m:g}min": float(total[f"share_{m:g}min"]) for m in q.minutes}
        if q.gaps:
            g = gaps(ctx, region.facilities, max(q.minutes), types=q.types,
                     candidates=region.candidates, places=places_of(region.network))
            write_table(g, out / f"gaps_{q.name}_{mode}.gpkg")
            figures["modes"][mode]["gap_areas"] = len(g)
            figures["modes"][mode]["largest_gap_population"] = (
                float(g["population"].iloc[0]) if len(g) else 0.0)
            res.tables[f"gaps_{q.name}_{mode}"] = g
        fac = region.facilities
        if q.types:
            fac = fac[fac["type"].isin(q.types)]
        cells = coverage_by_cell(ctx, fac, q.minutes)
        figures["modes"][mode]["equity"] = coverage_equity(cells, table, max(q.minutes))
        if sc.maps or sc.report:        # the cells its map of this mode draws
            res.cells[f"coverage_{q.name}_{mode}"] = cells
    table = pd.concat(frames, ignore_index=True)
    res.tables[f"coverage_{q.name}"] = table
    write_table(table, out / f"coverage_{q.name}.csv")
    return figures


_MODEL_STEPS: dict[str, Callable[..., Any]] = {}


def _model_step(sc: Scenario, region: Region, m: ModelSpec, out: Path,
                res: RunResult) -> dict[str, Any]:
    from geoplan.maps.canvas import plan_sites
    from geoplan.scenario.models import plan_cells, plan_gaps, run_model, standard_minutes
    plan, tables = run_model(region, m, max_snap_m=sc.travel["max_snap_m"],
                             problems=res.problems, profiles=sc.profiles)
    res.plans[m.name] = plan
    if (sc.maps or sc.report) and m.kind != "tradeoff":
        cells = plan_cells(region, m, plan, max_snap_m=sc.travel["max_snap_m"],
                           profiles=sc.profiles)
        if cells is not None:
            res.cells[f"plan_{m.name}"] = cells
            plan.details["equity"] = plan_equity(cells, standard_minutes(m))
        if cells is not None and (plan.model in COVERING_MODELS
                                  or plan.model == "tiered_plan"):
            # the gaps left after the plan, named, with the sites that would close them
            # (covering models only: the others hold no one to a standard)
            chosen = plan_sites(plan, region.candidates, region.facilities)["id"]
            after = plan_gaps(cells, "after", region=region, m=m, chosen=chosen,
                              max_snap_m=sc.travel["max_snap_m"], profiles=sc.profiles)
            res.tables[f"gaps_plan_{m.name}_after"] = after
            write_table(after, out / f"plan_{m.name}_gaps_after.gpkg")
    sites = None
    if plan.sites is not None:       # + lon/lat in WGS-84 and in the inputs' own system
        from geoplan.scenario.outputs import site_table, write_site_files
        sites = site_table(plan.sites, region)
        tables["sites"] = pd.DataFrame(sites).drop(columns="geometry", errors="ignore")
    for name, t in tables.items():
        res.tables[f"plan_{m.name}_{name}"] = t
        write_table(t, out / f"plan_{m.name}_{name}.csv")
    if sites is not None and len(sites):
        write_table(sites, out / f"plan_{m.name}_sites.gpkg")
        write_site_files(sites, out, f"plan_{m.name}_new_sites",
                         f"{sc.label()}: {m.label(sc.language)}")
    fig = plan.summary()
    for k in ("build_s", "solve_s"):
        res.timings[f"model {m.name} {k}"] = fig.pop(k)
    fig["kind"] = m.kind
    fig["figures"] = {f.key: f.value for f in plan_figures(plan)}
    if m.description:
        fig["description"] = m.description
    if plan.by_unit is not None:
        fig["by_unit"] = _unit_figures(plan.by_unit)
    return fig


def _unit_figures(by_unit: pd.DataFrame) -> list[dict[str, Any]]:
    keep = [c for c in by_unit.columns if c != "geometry"]
    return [{k: (v if not isinstance(v, float) or math.isfinite(v) else None)
             for k, v in row.items()} for row in by_unit[keep].to_dict("records")]


# --------------------------------------------------------------------------- run


def run_scenario(
    scenario: Scenario | str | Path,
    *,
    output: str | Path | None = None,
    progress: bool = False,
    region_cache: dict[Any, Region] | None = None,
) -> RunResult:
    """Run every coverage question and model of a scenario and write all outputs.

    Parameters
    ----------
    scenario
        A :class:`~geoplan.scenario.spec.Scenario` or the path of a scenario file.
    output
        Output folder (overrides the file's ``output``).
    progress
        Show a progress bar on standard error.
    region_cache
        Dict reused across runs so scenarios on the same region read it once.

    Returns
    -------
    RunResult

    Raises
    ------
    GeoplanInputError
        On invalid scenario files or inputs, before anything is written.
    """
    sc = scenario if isinstance(scenario, Scenario) else read_scenario(scenario, output=output)
    if output is not None:
        sc.output = Path(output).resolve()
    started = datetime.now(UTC)
    t_all = time.perf_counter()
    timings: dict[str, float] = {}
    steps = 1 + len(sc.coverage) + len(sc.models) + int(sc.maps) + int(sc.report)
    bar = _Progress(steps, progress, sc.name[:30])
    res = RunResult(scenario=sc, output=sc.output, summary={}, timings=timings)
    try:
        with staged_folder(sc.output) as stage:
            bar.step("inputs")
            t = time.perf_counter()
            region = _region(sc, region_cache)
            timings["inputs"] = time.perf_counter() - t
            bar.done()
            pop = float(region.population["population"].sum())
            summary: dict[str, Any] = {
                "scenario": sc.name, "scenario_zh": sc.name_zh, "region": region.name,
                "population": pop, "facilities": len(region.facilities),
                "coverage": [], "models": []}
            for q in sc.coverage:
                bar.step(f"coverage {q.name}")
                t = time.perf_counter()
                summary["coverage"].append(_coverage_step(sc, region, q, stage, res))
                timings[f"coverage {q.name}"] = time.perf_counter() - t
                bar.done()
            for m in sc.models:
                bar.step(f"model {m.name}")
                t = time.perf_counter()
                summary["models"].append({"name": m.name,
                                          **_model_step(sc, region, m, stage, res)})
                timings[f"model {m.name}"] = time.perf_counter() - t
                bar.done()
            res.summary = summary           # the pages show its figures
            if sc.maps or sc.report:
                from geoplan.scenario.outputs import write_maps_and_report
                t = time.perf_counter()
                bar.step("maps and report")
                summary["outputs"] = write_maps_and_report(sc, region, res, stage)
                timings["maps_report"] = time.perf_counter() - t
                bar.done()
            res.summary = summary
            _write_json(summary, stage / "summary.json")
            timings["total"] = time.perf_counter() - t_all
            log = {
                "scenario_file": sc.path, "started_utc": started.isoformat(timespec="seconds"),
                "parameters": sc.raw, "resolved": {
                    "region": sc.region, "output": sc.output, "language": sc.language,
                    "coverage": [q.to_dict() for q in sc.coverage],
                    "models": [m.to_dict() for m in sc.models], "travel": sc.travel},
                "inputs": {p.as_posix(): {"sha256": _sha256(p), "bytes": p.stat().st_size}
                           for p in _input_files(sc)},
                "packages": package_versions(), "platform": platform.platform(),
                "timings_s": timings, "command": sys.argv,
            }
            _write_json(log, stage / "run_log.json")
    finally:
        bar.close()
    return res

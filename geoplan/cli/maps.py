"""The ``geoplan map`` and ``geoplan report`` commands (wired into :mod:`geoplan.cli.main`).

Thin: each command loads a region (:func:`geoplan.inputs.region.load_region`), computes the
coverage figures with :mod:`geoplan.access.coverage`, optionally reads a plan's sites (the
GeoPackage/CSV ``geoplan optimize`` writes, or any points file with ``status`` and
``beds_added`` columns) and hands everything to :func:`geoplan.maps.canvas.build_map` and
:func:`geoplan.maps.report.write_report`.

Wiring (in :func:`geoplan.cli.main.build_parser`)::

    from geoplan.cli.maps import add_map_parsers
    add_map_parsers(sub)          # sub = parser.add_subparsers(...)

Each parser sets ``func`` to :func:`map_command` or :func:`report_command`, which return
the exit status and raise :class:`~geoplan._errors.GeoplanInputError` on bad input.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import GeoplanInputError

__all__ = ["add_map_parsers", "map_command", "report_command"]

_MODES = ("walk", "ebike", "drive")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("region", help="region folder or region.toml")
    p.add_argument("--mode", default="walk", choices=_MODES, help="travel mode (default walk)")
    p.add_argument("--minutes", nargs="+", type=float, default=[15.0],
                   help="target times in minutes (default 15)")
    p.add_argument("--types", nargs="+", help="facility types that count for coverage "
                                              "(codes or labels; default all)")
    p.add_argument("--sites", help="a plan's sites (GeoPackage/GeoJSON/CSV with lon/lat; "
                                   "columns status new/existing and beds_added optional)")
    p.add_argument("--plan-summary", help="the plan's JSON summary (model, status, gap, ...)")
    p.add_argument("--lang", default="en", choices=["en", "zh"], help="label language")
    p.add_argument("--basemap", default="osm", choices=["osm", "gaode", "none"],
                   help="osm (OpenStreetMap), gaode (Gaode/AutoNavi, overlays in GCJ-02) "
                        "or none (offline)")
    p.add_argument("--title", help="title (default: region name and target)")


def add_map_parsers(sub: Any) -> None:
    """Add the ``map`` and ``report`` sub-commands to an argparse sub-parser set.

    Parameters
    ----------
    sub
        The object returned by ``parser.add_subparsers()``.
    """
    m = sub.add_parser(
        "map", help="render a coverage (and plan) map as a self-contained HTML page",
        description="Compute coverage for a region and draw it with Folium: population, "
                    "facilities by type, area covered within each target time, gaps, admin "
                    "units by attainment (coverage share, beds per 1,000), and a plan's new "
                    "and upgraded sites with a before/after switch. Works offline.")
    _common(m)
    m.add_argument("--out", default="maps", help="output folder (default maps/)")
    m.add_argument("--name", help="file name without .html (default from the title)")
    m.add_argument("--online", action="store_true",
                   help="link Leaflet from its CDN instead of inlining it (needs internet)")
    m.set_defaults(func=map_command)
    r = sub.add_parser(
        "report", help="write one self-contained HTML report with CSV/XLSX tables",
        description="Inputs summary, coverage by admin unit (before/after a plan), the plan "
                    "(sites, beds, costs, optimality gap), a trade-off curve and the maps, "
                    "in one HTML file that works offline; tables also as CSV and XLSX.")
    _common(r)
    r.add_argument("--tradeoff", help="trade-off table (CSV: n_sites or budget, and share)")
    r.add_argument("--out", default="outputs/report", help="output folder")
    r.add_argument("--link-maps", action="store_true",
                   help="save maps beside the report and link them instead of embedding")
    r.add_argument("--no-xlsx", action="store_true", help="do not write report.xlsx")
    r.set_defaults(func=report_command)


# --------------------------------------------------------------------------- analysis
@dataclass
class _Analysis:
    region: Any
    cells: gpd.GeoDataFrame
    units: pd.DataFrame
    beds: pd.DataFrame | None
    catchments: pd.DataFrame
    gaps: gpd.GeoDataFrame
    plan: Any
    minutes: list[float]


def _read_sites(path: str, region: Any) -> gpd.GeoDataFrame:
    from geoplan.inputs.readers import read_candidates  # noqa: PLC0415

    sites = read_candidates(path, area=region.area, boundaries=region.boundaries,
                            to_crs=region.area.crs)
    if "status" not in sites.columns:
        sites["status"] = "new"
    sites["status"] = sites["status"].astype(str).str.strip().str.lower()
    bad = ~sites["status"].isin(["new", "existing", "upgraded"])
    if bad.any():
        raise GeoplanInputError(f"unknown status '{sites['status'][bad].iloc[0]}'", path=path,
                                field="status", hint="use new or existing")
    sites["status"] = sites["status"].replace({"upgraded": "existing"})
    if "beds_added" in sites.columns:
        sites["beds_added"] = pd.to_numeric(sites["beds_added"], errors="coerce").fillna(0.0)
    return sites


def _plan(args: argparse.Namespace, region: Any, sites: gpd.GeoDataFrame,
          by_unit: pd.DataFrame, covered: tuple[float, float, float]) -> Any:
    from geoplan.optimize.plan import Plan  # noqa: PLC0415

    info: dict[str, Any] = {}
    if args.plan_summary:
        p = Path(args.plan_summary)
        try:
            info = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise GeoplanInputError(f"cannot read the plan summary ({exc})", path=p,
                                    hint="give the JSON summary written by geoplan "
                                         "optimize") from None
    new = np.flatnonzero(sites["status"].to_numpy() == "new")
    old = np.flatnonzero(sites["status"].to_numpy() != "new")

    def num(key: str, default: float = math.nan) -> float:
        v = info.get(key)
        return default if v is None else float(v)

    return Plan(model=str(info.get("model", Path(args.sites).stem)), selected=new,
                existing=old, status=str(info.get("status", "not_solved")),
                objective=num("objective"), bound=num("bound"), gap=num("gap"),
                solver=str(info.get("solver", "")), build_s=num("build_s", 0.0),
                solve_s=num("solve_s", 0.0), covered_before=covered[0],
                covered_after=covered[1], total_demand=covered[2], by_unit=by_unit,
                sites=sites)


def _new_facilities(sites: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
                    types: list[str] | None) -> gpd.GeoDataFrame:
    """Return the facilities plus the plan's new sites (typed as the counted type)."""
    new = sites.loc[sites["status"] == "new"].copy()
    kind = types[0] if types else None
    if kind is None:
        given = new.get("type", pd.Series("", index=new.index)).astype(str)
        kind = next((t for t in given if t and t in set(facilities["type"])),
                    str(facilities["type"].iloc[0]))
    new["type"] = kind
    new["id"] = "new:" + new["id"].astype(str)
    new["beds"] = new["beds_added"] if "beds_added" in new.columns else 0.0
    cols = [c for c in ("id", "name", "type", "beds", "admin_code", "admin_name")
            if c in new.columns]
    return gpd.GeoDataFrame(pd.concat([facilities, new[[*cols, "geometry"]].to_crs(
        facilities.crs)], ignore_index=True), crs=facilities.crs)


def _analyse(args: argparse.Namespace) -> _Analysis:
    from geoplan.access import coverage  # noqa: PLC0415
    from geoplan.inputs.region import load_region  # noqa: PLC0415

    region = load_region(args.region)
    for name in ("population", "facilities", "network"):
        if getattr(region, name) is None:
            raise GeoplanInputError(f"the region has no {name}", path=region.manifest,
                                    field=name, hint=f"add a [{name}] section to region.toml")
    minutes = sorted(set(args.minutes))
    ctx = coverage.travel_context(region.network, args.mode, region.population)
    fac = region.facilities
    cells = coverage.coverage_by_cell(ctx, fac, minutes, types=args.types)
    units = coverage.coverage_by_unit(ctx, fac, minutes, types=args.types,
                                      boundaries=region.boundaries)
    beds = None
    if region.boundaries is not None and "district_code" in region.boundaries.columns:
        beds = coverage.beds_per_1000(region.population, fac, region.boundaries)
    catch = coverage.catchments(ctx, fac, types=args.types).facilities
    gaps = coverage.gaps(ctx, fac, minutes[-1], types=args.types, min_population=1.0)
    plan = None
    if args.sites:
        sites = _read_sites(args.sites, region)
        after_fac = _new_facilities(sites, fac, args.types)
        after = coverage.coverage_by_cell(ctx, after_fac, minutes, types=args.types)
        cells["minutes_after"] = after["minutes"].to_numpy()
        t = minutes[0]
        pop = cells["population"].to_numpy(float)
        before_ok = cells["minutes"].to_numpy(float) <= t
        after_ok = cells["minutes_after"].to_numpy(float) <= t
        codes = cells["admin_code"].astype(str)
        by_unit = pd.DataFrame({"admin_code": codes, "population": pop,
                                "covered_before": pop * before_ok,
                                "covered_after": pop * after_ok}).groupby("admin_code").sum()
        by_unit["share_before"] = by_unit["covered_before"] / by_unit["population"]
        by_unit["share_after"] = by_unit["covered_after"] / by_unit["population"]
        covered = (float((pop * before_ok).sum()), float((pop * after_ok).sum()),
                   float(pop.sum()))
        plan = _plan(args, region, sites, by_unit.reset_index(), covered)
    return _Analysis(region=region, cells=cells, units=units, beds=beds,
                     catchments=catch, gaps=gaps, plan=plan, minutes=minutes)


def _title(args: argparse.Namespace, a: _Analysis) -> tuple[str, str]:
    from geoplan import labels  # noqa: PLC0415

    zh = args.lang == "zh"
    name = (a.region.name_zh if zh and a.region.name_zh else a.region.name)
    mins = "/".join(f"{m:g}" for m in a.minutes)
    title = args.title or labels.text("map.coverage_title", args.lang, name=name, mins=mins)
    return title, labels.mode(args.mode, args.lang)


def _canvas(args: argparse.Namespace, a: _Analysis) -> Any:
    from geoplan.maps.canvas import MapInputs, build_map  # noqa: PLC0415

    title, subtitle = _title(args, a)
    units = [a.units] if a.plan is None else []
    if a.beds is not None:
        units.append(a.beds)
    data = MapInputs(boundaries=a.region.boundaries, population=a.cells,
                     facilities=a.region.facilities, candidates=a.region.candidates,
                     units=units + ([a.plan.by_unit] if a.plan is not None else []),
                     catchments=a.catchments, gaps=a.gaps, plan=a.plan, minutes=a.minutes)
    return build_map(data, title=title, subtitle=subtitle, lang=args.lang,
                     basemap=args.basemap, vocabulary=a.region.vocabulary)


def map_command(args: argparse.Namespace) -> int:
    """Run ``geoplan map``: compute coverage, draw the map, write it under ``--out``.

    Parameters
    ----------
    args
        Parsed arguments (see :func:`add_map_parsers`).

    Returns
    -------
    int
        0 on success.
    """
    from geoplan.maps.canvas import default_map_path, save_map  # noqa: PLC0415

    a = _analyse(args)
    canvas = _canvas(args, a)
    path = (Path(args.out) / f"{args.name}.html" if args.name
            else default_map_path(canvas.title, args.out))
    save_map(canvas, path, offline=not args.online)
    print(f"map written: {path} ({path.stat().st_size / 1e6:,.1f} MB; layers: "
          f"{len(canvas.layers)})", file=sys.stdout)
    return 0


def report_command(args: argparse.Namespace) -> int:
    """Run ``geoplan report``: compute coverage, build the report, write it under ``--out``.

    Parameters
    ----------
    args
        Parsed arguments (see :func:`add_map_parsers`).

    Returns
    -------
    int
        0 on success.
    """
    from geoplan.maps.report import ReportInputs, write_report  # noqa: PLC0415

    a = _analyse(args)
    canvas = _canvas(args, a)
    tradeoff = None
    if args.tradeoff:
        p = Path(args.tradeoff)
        if not p.is_file():
            raise GeoplanInputError("file not found", path=p, field="tradeoff",
                                    hint="give the trade-off table (CSV)")
        tradeoff = pd.read_csv(p, encoding="utf-8-sig")
    title, subtitle = _title(args, a)
    from geoplan import labels  # noqa: PLC0415

    inputs = {labels.text("report.mode", args.lang): subtitle,
              labels.text("report.minutes", args.lang): ", ".join(f"{m:g}" for m in a.minutes)}
    if args.types:
        vocab = a.region.vocabulary
        inputs[labels.text("report.types", args.lang)] = ", ".join(
            vocab.label(vocab.code_of(t) or t, args.lang) for t in args.types)
    units = a.units if a.plan is None else None
    data = ReportInputs(title=title, subtitle=subtitle, region=a.region, inputs=inputs,
                        units=units, plans={a.plan.model: a.plan} if a.plan else {},
                        tradeoff=tradeoff, maps={title: canvas})
    files = write_report(data, args.out, lang=args.lang, embed_maps=not args.link_maps,
                         xlsx=not args.no_xlsx)
    print(f"report written: {files.html} ({files.html.stat().st_size / 1e6:,.1f} MB), "
          f"{len(files.csv)} CSV table(s)" + (f", {files.xlsx}" if files.xlsx else ""))
    return 0

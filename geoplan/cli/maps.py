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
import html
import json
import math
import re
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
    p.add_argument("--basemap", default="osm", choices=["osm", "gaode", "roads", "none"],
                   help="osm (OpenStreetMap), gaode (Gaode/AutoNavi, overlays in GCJ-02), "
                        "roads (the region's own road network and place names, offline) "
                        "or none; without internet osm/gaode switch to roads by themselves")
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
    m.add_argument("--name", help="file name without .html (default: the title, mode, "
                                  "minutes and, with --sites, 'plan')")
    m.add_argument("--force", action="store_true",
                   help="replace a map of that name made by another command")
    m.add_argument("--png", metavar="WIDTHxHEIGHT", nargs="?", const="1600x1000",
                   help="also save the map as a PNG for slides (default size 1600x1000; "
                        "needs Chromium or Chrome)")
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
    r.add_argument("--pdf", action="store_true", help="also print the report to report.pdf "
                   "(A4, for a committee; needs Chromium or Chrome)")
    r.set_defaults(func=report_command)


# --------------------------------------------------------------------------- checks first
_TRADEOFF_X = ("n_sites", "p", "new_sites", "budget", "cost")
_TRADEOFF_Y = ("share", "share_after", "covered", "covered_after")


def _read_plan_summary(p: Path) -> dict[str, Any]:
    """The JSON summary of one plan (``<name>_summary.json`` of ``geoplan optimize``)."""
    hint = "give the <name>_summary.json that geoplan optimize writes beside the sites"
    if not p.is_file():
        raise GeoplanInputError("file not found", path=p, field="plan-summary", hint=hint)
    try:
        info = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise GeoplanInputError("the plan summary is not UTF-8 text", path=p,
                                field="plan-summary", hint=hint) from None
    except json.JSONDecodeError as exc:
        raise GeoplanInputError(f"not valid JSON ({exc.msg})", path=p,
                                row=f"line {exc.lineno}", field="plan-summary",
                                hint=hint) from None
    if not isinstance(info, dict):
        raise GeoplanInputError(f"a plan summary is a JSON object {{...}}, got a "
                                f"{type(info).__name__}", path=p, field="plan-summary",
                                hint=hint)
    if "scenario" in info and "model" not in info:
        raise GeoplanInputError("this is the summary.json of a geoplan run (a whole "
                                "scenario), not the summary of one plan", path=p,
                                field="plan-summary", hint=hint)
    for key, v in info.items():
        if key in ("objective", "bound", "gap", "build_s", "solve_s") and v is not None and (
                isinstance(v, bool) or not isinstance(v, int | float)):
            raise GeoplanInputError(f"'{key}' must be a number, got {v!r}", path=p, field=key,
                                    hint=hint)
        if key in ("model", "status", "solver") and not isinstance(v, str):
            raise GeoplanInputError(f"'{key}' must be a text, got {v!r}", path=p, field=key,
                                    hint=hint)
    return info


def _read_tradeoff(p: Path) -> pd.DataFrame:
    """The trade-off table: a count or budget column and a share (0 to 1) or people."""
    from geoplan.inputs import _validate as v  # noqa: PLC0415

    df = v.read_text_table(v.check_file(p))
    hint = "columns n_sites (or p, budget) and share (0 to 1), as a tradeoff model writes"
    x = next((c for c in _TRADEOFF_X if c in df.columns), None)
    y = next((c for c in _TRADEOFF_Y if c in df.columns), None)
    for col, names in ((x, _TRADEOFF_X), (y, _TRADEOFF_Y)):
        if col is None:
            raise GeoplanInputError(f"the trade-off table needs one of the columns "
                                    f"{', '.join(names)}; columns present: "
                                    f"{', '.join(df.columns)}", path=p, field=names[0],
                                    hint=hint)
    assert x is not None and y is not None
    for col in (x, y):
        df[col] = v.parse_numbers(df, col, p, field=col, what="a number")
    if y.startswith("share") and (df[y] > 1).any():
        pos = int(np.flatnonzero((df[y] > 1).to_numpy())[0])
        raise GeoplanInputError(f"value '{df[y].iloc[pos]:g}' is not a share between 0 and 1",
                                path=p, row=v.row_label(df, pos), field=y,
                                hint="write shares as fractions: 0.55, not 55")
    return df


def _check_first(args: argparse.Namespace, *, report: bool) -> None:
    """Check the options and the small files they name (plan summary, sites, trade-off
    table, facility types) before the region's population and roads are read and coverage
    computed: a typo is refused in a second, naming the option or file."""
    from geoplan.inputs.region import load_region, read_manifest  # noqa: PLC0415

    if not all(math.isfinite(t) and t > 0 for t in args.minutes):
        raise GeoplanInputError(f"--minutes must be positive, finite numbers, got "
                                f"{args.minutes}", field="--minutes", hint="e.g. --minutes 15 30")
    name = getattr(args, "name", None)
    if name is not None and (not name.strip() or any(c in name for c in "/\\")
                             or name.strip(".") == ""):
        raise GeoplanInputError(f"--name {name!r} must be a file name, not a path",
                                field="--name", hint="give a name without folders; choose the "
                                                     "folder with --out")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise GeoplanInputError("the output is not a folder (a file of that name exists)",
                                path=out, field="out", hint="give a folder with --out")
    args.png_size = _png_size(getattr(args, "png", None))
    if getattr(args, "png", None) or getattr(args, "pdf", False):
        from geoplan.maps.export import find_chromium  # noqa: PLC0415
        find_chromium()                  # a missing browser is said before any work
    if args.plan_summary and not args.sites:
        raise GeoplanInputError("--plan-summary describes the plan whose sites --sites gives; "
                                "without --sites it would be ignored", field="--plan-summary",
                                hint="add --sites SITES (the plan's sites), or leave out "
                                     "--plan-summary")
    args.plan_info = _read_plan_summary(Path(args.plan_summary)) if args.plan_summary else {}
    args.tradeoff_table = (_read_tradeoff(Path(args.tradeoff))
                           if report and args.tradeoff else None)
    manifest, _ = read_manifest(args.region)
    cheap = load_region(args.region, layers=("facilities",) if "boundaries" in manifest
                        else ("facilities", "population"))
    vocab = cheap.vocabulary
    vocab.require_codes(args.types or (), "--types")
    args.sites_table = _read_sites(args.sites, cheap) if args.sites else None


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
    gaps_after: gpd.GeoDataFrame | None = None


def _read_sites(path: str, region: Any) -> gpd.GeoDataFrame:
    from geoplan.inputs.readers import read_candidates  # noqa: PLC0415

    sites = read_candidates(path, area=region.area, boundaries=region.boundaries,
                            to_crs=region.area.crs)
    if "status" not in sites.columns:
        sites["status"] = "new"
    sites["status"] = sites["status"].astype(str).str.strip().str.lower()
    bad = ~sites["status"].isin(["new", "existing", "upgraded"])
    if bad.any():
        from geoplan.inputs._validate import row_label  # noqa: PLC0415
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise GeoplanInputError(f"unknown status '{sites['status'].iloc[pos]}'", path=path,
                                row=row_label(sites, pos, "id"), field="status",
                                hint="use new or existing")
    sites["status"] = sites["status"].replace({"upgraded": "existing"})
    if "beds_added" in sites.columns:     # text is an error, not 0 beds
        from geoplan.inputs._validate import parse_numbers  # noqa: PLC0415
        sites["beds_added"] = np.nan_to_num(parse_numbers(
            sites, "beds_added", Path(path), field="beds_added", id_col="id", required=False,
            what="a bed count"), nan=0.0)
    if not sites["in_area"].any():
        raise GeoplanInputError(f"all {len(sites)} site(s) lie outside the study area of the "
                                "region", path=path, field="lon",
                                hint="give the sites of a plan for this region (check the "
                                     "coordinates and their CRS)")
    return sites


def _plan(args: argparse.Namespace, region: Any, sites: gpd.GeoDataFrame,
          by_unit: pd.DataFrame, covered: tuple[float, float, float]) -> Any:
    from geoplan.optimize.plan import Plan  # noqa: PLC0415

    info: dict[str, Any] = args.plan_info            # read and checked by _check_first
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
    from geoplan.inputs.osm import places_of  # noqa: PLC0415
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
    places = places_of(region.network)
    gaps = coverage.gaps(ctx, fac, minutes[-1], types=args.types, min_population=1.0,
                         candidates=region.candidates, places=places)
    plan = None
    if args.sites:
        sites = args.sites_table                     # read and checked by _check_first
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
    gaps_after = None
    if plan is not None:                 # the after view shows the gaps the plan leaves
        left = region.candidates        # candidates the plan did not take
        if left is not None and "id" in args.sites_table.columns:
            left = left[~left["id"].astype(str).isin(args.sites_table["id"].astype(str))]
        gaps_after = coverage.gaps(ctx, after_fac, minutes[-1], types=args.types,
                                   min_population=1.0, candidates=left, places=places)
    return _Analysis(region=region, cells=cells, units=units, beds=beds,
                     catchments=catch, gaps=gaps, plan=plan, minutes=minutes,
                     gaps_after=gaps_after)


def _title(args: argparse.Namespace, a: _Analysis) -> tuple[str, str]:
    from geoplan import labels  # noqa: PLC0415

    zh = args.lang == "zh"
    name = (a.region.name_zh if zh and a.region.name_zh else a.region.name)
    mins = "/".join(f"{m:g}" for m in a.minutes)
    title = args.title or labels.text("map.coverage_title", args.lang, name=name, mins=mins)
    return title, labels.mode(args.mode, args.lang)


def _canvas(args: argparse.Namespace, a: _Analysis) -> Any:
    from geoplan.inputs.osm import places_of  # noqa: PLC0415
    from geoplan.maps.basemap import road_lines  # noqa: PLC0415
    from geoplan.maps.canvas import MapInputs, build_map  # noqa: PLC0415

    title, subtitle = _title(args, a)
    units = [a.units] if a.plan is None else []
    if a.beds is not None:
        units.append(a.beds)
    data = MapInputs(boundaries=a.region.boundaries, population=a.cells,
                     facilities=a.region.facilities, candidates=a.region.candidates,
                     units=units + ([a.plan.by_unit] if a.plan is not None else []),
                     catchments=a.catchments, gaps=a.gaps, plan=a.plan, minutes=a.minutes,
                     gaps_after=a.gaps_after, roads=road_lines(a.region.network),
                     places=places_of(a.region.network))
    return build_map(data, title=title, subtitle=subtitle, lang=args.lang,
                     basemap=args.basemap, vocabulary=a.region.vocabulary)


def _command_signature(args: argparse.Namespace) -> str:
    """What a map shows, as the command that asked for it (kept in the page's head)."""
    parts = ["map", str(Path(args.region).resolve()), f"--mode {args.mode}",
             "--minutes " + " ".join(f"{m:g}" for m in sorted(set(args.minutes)))]
    for opt in ("types", "sites", "plan_summary", "lang", "basemap", "title"):
        v = getattr(args, opt, None)
        if v:
            v = " ".join(v) if isinstance(v, list) else str(
                Path(v).resolve() if opt in ("sites", "plan_summary") else v)
            parts.append(f"--{opt.replace('_', '-')} {v}")
    return " ".join(parts)


def _png_size(text: str | None) -> tuple[int, int] | None:
    """``--png WIDTHxHEIGHT`` as two whole numbers of pixels."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d{3,5})\s*[xX×]\s*(\d{3,5})\s*", text)
    if m is None or not all(100 <= int(v) <= 10_000 for v in m.groups()):
        raise GeoplanInputError(f"--png {text!r} is not a size in pixels", field="--png",
                                hint="write WIDTHxHEIGHT, each 100 to 10,000, e.g. 1600x1000")
    return int(m.group(1)), int(m.group(2))


def _check_replace(path: Path, command: str, force: bool) -> None:
    """Refuse to replace a map another command made (a different mode, times, types or
    plan): the planner would lose it without a word."""
    if force or not path.is_file():
        return
    head = path.read_text(encoding="utf-8", errors="replace")[:4000]
    m = re.search(r'<meta name="geoplan-command" content="([^"]*)"', head)
    if m is not None and html.unescape(m.group(1)) == command:
        return                                       # the same command: an update
    made = html.unescape(m.group(1)) if m else "not geoplan map"
    raise GeoplanInputError(
        f"a different map already has this name (made by: {made})", path=path,
        field="--name", hint="give another --name or --out, or --force to replace it")


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

    _check_first(args, report=False)
    command = _command_signature(args)
    a = _analyse(args)
    canvas = _canvas(args, a)
    mins = "-".join(f"{m:g}" for m in a.minutes)
    path = (Path(args.out) / f"{args.name}.html" if args.name
            else default_map_path(f"{canvas.title}-{args.mode}-{mins}min"
                                  + ("-plan" if args.sites else ""), args.out))
    _check_replace(path, command, args.force)
    save_map(canvas, path, offline=not args.online, meta={"geoplan-command": command})
    print(f"map written: {path} ({path.stat().st_size / 1e6:,.1f} MB; layers: "
          f"{len(canvas.layers)})", file=sys.stdout)
    if args.png_size is not None:
        from geoplan.maps.export import html_to_png  # noqa: PLC0415
        png = html_to_png(path, path.with_suffix(".png"), width=args.png_size[0],
                          height=args.png_size[1])
        print(f"image written: {png}", file=sys.stdout)
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

    _check_first(args, report=True)
    a = _analyse(args)
    canvas = _canvas(args, a)
    tradeoff = args.tradeoff_table
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
    if args.pdf:
        from geoplan.maps.export import html_to_pdf  # noqa: PLC0415
        print(f"PDF written: {html_to_pdf(files.html, files.html.with_suffix('.pdf'))}")
    return 0

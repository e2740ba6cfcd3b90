"""The ``geoplan`` command line. Thin: every command calls public functions.

Errors in the input are printed as one clear message (file, row, field, what to do) and
the command exits with status 2; warnings are printed and the command goes on.

Quiet by default: nothing from the solvers reaches stdout. ``--verbose`` (before or after
the command) sends the ``geoplan`` logger to stderr (INFO progress lines, DEBUG solver
lines) and runs the models with ``verbose=True``; the solvers' own logs then go to
stderr too, so stdout keeps only the results.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from geoplan import __version__
from geoplan._errors import GeoplanError, GeoplanWarning

EXIT_INPUT_ERROR = 2

log = logging.getLogger("geoplan.cli.main")


class _UsageError(GeoplanError):
    """A command line argparse refuses (unknown option value, not a number, ...)."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are messages with a hint (exit status 2), not a
    bare ``SystemExit``: ``--mode bus`` names the option, the value and what to do."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message} -> see '{self.prog} --help' for the "
                          "options and their values")


@contextlib.contextmanager
def _verbose_logging(active: bool) -> Iterator[None]:
    """Send the ``geoplan`` logger to stderr (DEBUG and up) while a command runs."""
    if not active:
        yield
        return
    logger = logging.getLogger("geoplan")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@contextlib.contextmanager
def _solver_output_to_stderr(active: bool) -> Iterator[None]:
    """Send what solvers print (Python and C level) to stderr, so stdout keeps the results."""
    if not active:
        yield
        return
    saved = None
    try:
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(2, 1)
    except (OSError, ValueError):          # no real file descriptors: Python level only
        saved = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def _print_table(df: pd.DataFrame, floatfmt: str = "{:,.1f}", lang: str = "en") -> None:
    """Print a table with its headers, road classes, totals and shares in ``lang``."""
    from geoplan import labels

    out = df.copy()
    for col in out.columns:
        if col == "highway":
            out[col] = [labels.value(col, v, lang) for v in out[col]]
        elif col.endswith("share"):
            out[col] = [f"{v:.1%}" if v == v else "–" for v in out[col]]
        elif not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].where(out[col].notna(), "–")
            text = out[col].astype(str)
            for raw, key in (("total", "report.total"), ("(none)", "cli.v.none"),
                             ("(outside all units)", "cli.v.outside_units")):
                out[col] = out[col].mask(text == raw, labels.text(key, lang))
    out.columns = [labels.header(str(c), lang) for c in out.columns]
    with pd.option_context("display.max_rows", 200, "display.width", 160,
                           "display.max_columns", 20):
        print(out.to_string(index=False, float_format=lambda x: floatfmt.format(x)))


def _print_kv(title: str, items: dict[str, str], lang: str = "en") -> None:
    """Print a titled list of ``key  value`` lines, keys in ``lang``."""
    from geoplan import labels

    print(f"\n== {title}")
    for k, val in items.items():
        key = labels.text(f"cli.k.{k}", lang) if labels.has(f"cli.k.{k}") else k
        print(f"  {key:<14} {val}")


#: The column options of ``geoplan inspect``: the fields of the facilities and candidates
#: readers (``readers.FACILITY_FIELDS`` and ``CANDIDATE_FIELDS``; checked by a test).
COLUMN_OPTIONS = ("id", "name", "name_en", "type", "beds", "capacity", "cost", "admin",
                  "admin_name", "address", "lon", "lat", "x", "y")
_CANDIDATE_COLUMNS = tuple(k for k in COLUMN_OPTIONS if k != "beds")

#: The options of ``geoplan inspect`` each kind of input applies (``lang`` applies to all);
#: one given that no input inspected applies is refused, never ignored.
INSPECT_OPTIONS: dict[str, frozenset[str]] = {
    "facilities": frozenset({"kind", "crs", "encoding", "vocabulary", "boundaries",
                             *COLUMN_OPTIONS}),
    "candidates": frozenset({"kind", "crs", "encoding", "boundaries", *_CANDIDATE_COLUMNS}),
    "population": frozenset({"kind", "crs", "encoding", "boundaries", "population_column",
                             "values"}),
    "boundaries": frozenset({"kind", "crs", "code", "name"}),
    "network": frozenset({"kind", "boundaries"}),
    "region": frozenset(),
}


def _columns(args: argparse.Namespace, kind: str) -> dict[str, str]:
    keys = COLUMN_OPTIONS if kind == "facilities" else _CANDIDATE_COLUMNS
    return {k: getattr(args, k) for k in keys if getattr(args, k, None)}


def _given_options(args: argparse.Namespace) -> list[str]:
    """The ``geoplan inspect`` options given (other than ``--lang``)."""
    names = ["kind", "crs", "encoding", "vocabulary", "boundaries", "population_column",
             "values", "code", *COLUMN_OPTIONS]
    defaults = {"kind": "auto", "values": "counts"}
    return [n for n in names if getattr(args, n, None) not in (None, defaults.get(n))]


def _check_inspect_options(args: argparse.Namespace, kinds: Sequence[str]) -> None:
    """Refuse an option that none of the inputs inspected applies (it would be ignored)."""
    from geoplan._errors import GeoplanInputError

    applied = frozenset().union(*(INSPECT_OPTIONS[k] for k in kinds))
    unused = [n for n in _given_options(args) if n not in applied]
    if not unused:
        return
    opts = ", ".join("--" + n.replace("_", "-") for n in unused)
    takers = {n: [k for k, keys in INSPECT_OPTIONS.items() if n in keys] for n in unused}
    where = "; ".join(f"--{n.replace('_', '-')}: {', '.join(ks) or 'none'}"
                      for n, ks in takers.items())
    raise GeoplanInputError(
        f"{opts} {'does' if len(unused) == 1 else 'do'} not apply to the inputs given "
        f"({', '.join(sorted(set(kinds)))})", field=unused[0],
        hint=f"give it with a file it applies to ({where}); a region's layers take their "
             "options from its region.toml (e.g. crs = \"gcj02\" under [facilities] or "
             "[boundaries]), and road networks are read in their own CRS (OSM: WGS-84)")


def _inspect_file(path: str, kind: str, args: argparse.Namespace, boundaries) -> None:
    from geoplan import labels
    from geoplan.inputs import readers as io
    from geoplan.inputs import summary
    from geoplan.inputs.facility_types import load_vocabulary
    from geoplan.inputs.studyarea import StudyArea

    lang = args.lang
    area = StudyArea.from_geodataframe(boundaries, crs=boundaries.crs) if boundaries is not None \
        else None
    title = labels.text(f"cli.file_{kind}", lang, path=path)
    if kind == "network":
        graph = io.read_network(path, area=area)
        head, by_class = summary.network_summary(graph, lang)
        _print_kv(title, head, lang)
        _print_table(by_class, "{:,.2f}", lang)
    elif kind == "population":
        pop = io.read_population(path, column=args.population_column, crs=args.crs, area=area,
                                 boundaries=boundaries, encoding=args.encoding,
                                 values=args.values)
        _print_kv(title, summary.extent_summary(pop, lang) | {
            "population": labels.text("cli.v.people_in_cells", lang,
                                      people=f"{pop['population'].sum():,.0f}",
                                      cells=f"{len(pop):,}")}, lang)
        _print_table(summary.population_by_unit(pop, boundaries), "{:,.0f}", lang)
    elif kind == "boundaries":
        units = io.read_boundaries(path, code=args.code, name=args.name, crs=args.crs)
        _print_kv(title, summary.extent_summary(units, lang) | {
            "area": labels.text("cli.v.area_km2", lang, v=f"{units.area.sum() / 1e6:,.1f}")},
            lang)
        cols = [c for c in units.columns if c != units.geometry.name][:6]
        _print_table(units[cols].assign(area_km2=units.area / 1e6), lang=lang)
    else:
        reader = io.read_facilities if kind == "facilities" else io.read_candidates
        extra = {"vocabulary": load_vocabulary(args.vocabulary)} if kind == "facilities" else {}
        pts = reader(path, crs=args.crs, area=area, boundaries=boundaries,
                     columns=_columns(args, kind), encoding=args.encoding, **extra)
        head = summary.extent_summary(pts, lang)
        if kind == "candidates":
            head["cost"] = labels.text("cli.v.cost", lang, total=f"{pts['cost'].sum():,.1f}",
                                       n=int(pts["cost"].notna().sum()))
        _print_kv(title, head, lang)
        if kind == "facilities":
            _print_table(_by_type(summary.facility_summary(pts, extra["vocabulary"], lang)),
                         "{:,.0f}", lang)
        if boundaries is not None:
            print(f"\n  {labels.text('cli.by_unit', lang)}")
            _print_table(pts.groupby(pts["admin_code"].fillna("(none)")).size()
                         .rename("count").reset_index(), lang=lang)


def _by_type(table: pd.DataFrame) -> pd.DataFrame:
    """A facility summary with the types' labels in place of their codes."""
    return table.drop(columns=["type"]).rename(columns={"label": "type"})


def _inspect_region(path: str, args: argparse.Namespace) -> None:
    from geoplan import labels
    from geoplan.inputs import summary
    from geoplan.inputs.region import load_region

    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        tqdm = None
    steps = ("boundaries", "population", "facilities", "candidates", "network")
    bar = tqdm(total=len(steps), desc="loading", unit="layer", file=sys.stderr,
               disable=not sys.stderr.isatty()) if tqdm else None

    def note(name: str) -> None:
        if bar is not None:
            bar.set_postfix_str(name)
            bar.update(1)

    lang = args.lang
    region = load_region(path, progress=note)
    if bar is not None:
        bar.close()
    name = (region.name_zh or region.name) if lang == "zh" else region.name
    head = {"manifest": str(region.manifest), "crs": region.area.crs.to_string(),
            "area": labels.text("cli.v.area_km2", lang, v=f"{region.area.area_km2:,.1f}")}
    if region.boundaries is not None:
        head["units"] = f"{len(region.boundaries)}"
    _print_kv(labels.text("cli.region", lang, name=name), head, lang)
    if region.population is not None:
        _print_kv(labels.text("cli.population_by_unit", lang), {
            "total": labels.text("cli.v.people_in_cells", lang,
                                 people=f"{region.population['population'].sum():,.0f}",
                                 cells=f"{len(region.population):,}")}, lang)
        _print_table(summary.population_by_unit(region.population, region.boundaries),
                     "{:,.0f}", lang)
        total = float(region.population["population"].sum())
        for key, info in region.demand_layers.items():   # the region's further groups
            people = float(region.population[f"demand_{key}"].sum())
            who = info.get("name_zh" if lang == "zh" else "name") or key
            # the key is what a scenario names (demand = "age65"): shown in English; a
            # Chinese listing shows the group's Chinese name only
            _print_kv(labels.text("cli.demand_layer", lang, layer=key if lang != "zh" else who), {
                "name": who, "total": labels.text(
                    "cli.v.people_share", lang, people=f"{people:,.0f}",
                    share=f"{people / total:.1%}" if total else "-")}, lang)
    if region.facilities is not None:
        _print_kv(labels.text("cli.facilities_by_type", lang),
                  summary.extent_summary(region.facilities, lang), lang)
        _print_table(_by_type(summary.facility_summary(region.facilities, region.vocabulary,
                                                       lang)), "{:,.0f}", lang)
    if region.candidates is not None:
        _print_kv(labels.text("cli.candidate_sites", lang),
                  summary.extent_summary(region.candidates, lang), lang)
    if region.network is not None:
        head, by_class = summary.network_summary(region.network, lang)
        _print_kv(labels.text("cli.road_network", lang), head, lang)
        _print_table(by_class, "{:,.2f}", lang)


def cmd_inspect(args: argparse.Namespace) -> int:
    """Read, validate and summarise input files or a region folder."""
    from geoplan.inputs import readers as io

    kinds = []
    for path in args.files:
        p = Path(path)
        if p.is_dir() or p.suffix.lower() == ".toml":
            kinds.append("region")
        else:
            kinds.append(args.kind if args.kind != "auto"
                         else io.guess_layer_kind(path, args.encoding))
    _check_inspect_options(args, kinds)
    boundaries = io.read_boundaries(args.boundaries) if args.boundaries else None
    for path, kind in zip(args.files, kinds, strict=True):
        if kind == "region":
            _inspect_region(path, args)
        else:
            _inspect_file(path, kind, args, boundaries)
    return 0


def _coverage_inputs(args: argparse.Namespace):
    """Read the coverage inputs: a region folder and/or separate files (files win)."""
    from geoplan._errors import GeoplanInputError
    from geoplan.inputs import readers as io
    from geoplan.inputs.region import load_region
    from geoplan.inputs.studyarea import StudyArea

    boundaries = population = facilities = graph = None
    if args.region:
        wanted = [name for name, own in (("population", args.population),
                                         ("facilities", args.facilities),
                                         ("network", args.network)) if not own]
        region = load_region(args.region, layers=wanted)
        boundaries, population = region.boundaries, region.population
        facilities, graph = region.facilities, region.network
    if args.boundaries:
        boundaries = io.read_boundaries(args.boundaries)
        if population is not None and not args.population:
            # the region's cells carry the region's unit codes: tag them with these units
            population = _retag(population, boundaries, args.boundaries, "population")
        if facilities is not None and not args.facilities:
            facilities = io.tag_admin_units(facilities, boundaries)
    area = StudyArea.from_geodataframe(boundaries, crs=boundaries.crs) \
        if boundaries is not None else None
    if args.population:
        population = io.read_population(args.population, area=area, boundaries=boundaries,
                                        to_crs=area.crs if area else None)
    for name, layer, flag in (("population", population, "--population"),
                              ("facilities", args.facilities or facilities, "--facilities"),
                              ("road network", args.network or graph, "--network")):
        if layer is None:
            raise GeoplanInputError(f"no {name} given", field=flag.strip("-"),
                                    hint=f"give {flag} FILE, or a region folder with one")
    crs = population.crs
    if area is None:
        area = StudyArea(crs=crs, outline=population.union_all().convex_hull)
    if args.facilities:
        facilities = io.read_facilities(args.facilities, crs=args.crs, to_crs=crs, area=area,
                                        boundaries=boundaries, encoding=args.encoding)
    if args.network:
        graph = io.read_network(args.network, to_crs=crs, area=area)
    return boundaries, population, facilities, graph


def _coverage_check_first(args: argparse.Namespace) -> None:
    """Check the cheap inputs of ``geoplan coverage`` before population and roads are read:
    the boundaries (``--boundaries`` or the region's), ``--level``, ``--types`` and the
    facilities file (``--facilities`` with ``--encoding``/``--crs``)."""
    from geoplan._errors import GeoplanInputError
    from geoplan.inputs import readers as io
    from geoplan.inputs.facility_types import load_vocabulary
    from geoplan.inputs.region import load_region, read_manifest

    boundaries, vocab = None, load_vocabulary(None)
    if args.boundaries:
        boundaries = io.read_boundaries(args.boundaries)
    if args.region:
        manifest, _ = read_manifest(args.region)
        if "boundaries" in manifest and boundaries is None:
            region = load_region(args.region, layers=())
            boundaries, vocab = region.boundaries, region.vocabulary
        else:
            vocab = load_vocabulary(manifest.get("facilities", {}).get("vocabulary"))
    if boundaries is not None and args.level not in boundaries.columns:
        codes = [c for c in boundaries.columns if c.endswith("_code")]
        raise GeoplanInputError(f"the boundaries have no column '{args.level}' (--level)",
                                field="--level", hint=f"use one of {', '.join(codes)}")
    vocab.require_codes(args.types or (), "--types")
    for opt in ("crs", "encoding"):
        if getattr(args, opt) is not None and not args.facilities:
            raise GeoplanInputError(
                f"--{opt} applies to --facilities FILE, which is not given", field=f"--{opt}",
                hint=f"give --facilities FILE with it, or set {opt} = \"...\" under "
                     "[facilities] in the region's region.toml")
    if args.facilities:      # read again, projected, once the population is known
        io.read_facilities(args.facilities, crs=args.crs, encoding=args.encoding,
                           vocabulary=vocab)


def _retag(cells, boundaries, path, what: str):
    """Population cells tagged with the units of ``boundaries``; an error when none of
    the people lie in them, a warning naming how many lie outside."""
    import warnings

    from geoplan._errors import GeoplanInputError, GeoplanWarning
    from geoplan.inputs import readers as io

    out = io.tag_admin_units(cells, boundaries)
    inside = out["admin_code"].notna().to_numpy()
    people = out["population"].to_numpy(float)
    total = float(people.sum())
    if total > 0 and not inside.any():
        raise GeoplanInputError(f"none of the {what} lies in these boundaries", path=path,
                                field="boundaries",
                                hint="give boundaries of this region (check their CRS and "
                                     "that they are not GCJ-02/BD-09 shifted)")
    outside = float(people[~inside].sum())
    if outside > 0:
        warnings.warn(GeoplanWarning(
            f"{path}: {outside:,.0f} of {total:,.0f} people ({outside / total:.1%}) lie outside "
            "every unit of these boundaries; they are counted in no unit"), stacklevel=2)
    return out


def _unit_geometries(boundaries, level: str):
    """Return the unit polygons at ``level`` (dissolved from the admin units), or None."""
    if boundaries is None or level not in boundaries.columns:
        return None
    return boundaries[[level, boundaries.geometry.name]].dissolve(by=level).geometry


def _print_coverage(table: pd.DataFrame, level: str, minutes: Sequence[float],
                    lang: str) -> None:
    from geoplan import labels
    from geoplan.access.coverage import minutes_label

    name_col = level[:-5] + "_name" if level.endswith("_code") else level + "_name"
    show = pd.DataFrame({
        labels.header("code", lang): table[level],
        labels.header("name", lang): table[name_col].where(
            table[level] != "total", labels.text("report.total", lang)),
        labels.header("population", lang): table["population"].map("{:,.0f}".format)})
    for t in minutes:
        lab = minutes_label(t)
        show[labels.text("col.within_t", lang, t=f"{t:g}")] = \
            table[f"covered_{lab}"].map("{:,.0f}".format)
        show[labels.text("col.share_within_t", lang, t=f"{t:g}")] = \
            table[f"share_{lab}"].map(lambda x: "-" if pd.isna(x) else f"{x:.1%}")
    _print_table(show)


def _coverage_tables(args: argparse.Namespace, inputs, minutes: list[float], step):
    """Run coverage for every mode: (per-unit tables by mode, wide per-cell table)."""
    from geoplan.access import coverage

    boundaries, population, facilities, graph = inputs
    keys = ["cell_id", "admin_code", "admin_name", "population"]
    units_by_mode, cells = [], None
    for mode in dict.fromkeys(args.mode):
        ctx = coverage.travel_context(graph, mode, population)
        units = coverage.coverage_by_unit(ctx, facilities, minutes, types=args.types,
                                          boundaries=boundaries, level=args.level)
        per_cell = coverage.coverage_by_cell(ctx, facilities, minutes, types=args.types)
        units_by_mode.append((mode, units))
        per_cell = per_cell.drop(columns=["geometry"])
        wide = per_cell.rename(columns={c: f"{mode}_{c}" for c in per_cell.columns
                                        if c not in keys})
        cells = wide if cells is None else cells.join(wide.drop(columns=keys))
        step(f"{mode} done")
    return units_by_mode, cells


def _write_coverage(out_dir: Path, units_by_mode, cells: pd.DataFrame, population,
                    boundaries, level: str) -> list[Path]:
    """Write the per-unit and per-cell tables as CSV and GeoPackage (atomically)."""
    import geopandas as gpd
    import numpy as np

    from geoplan._atomic import staged_files, write_table

    table = pd.concat([u.assign(mode=m)[["mode", *u.columns]] for m, u in units_by_mode],
                      ignore_index=True)
    geoms = _unit_geometries(boundaries, level)
    unit_layer = table if geoms is None else gpd.GeoDataFrame(
        table, geometry=geoms.reindex(table[level]).values, crs=geoms.crs)
    lonlat = population.geometry.to_crs(4326)
    cells_csv = cells.assign(lon=np.round(lonlat.x.to_numpy(), 6),
                             lat=np.round(lonlat.y.to_numpy(), 6))
    cells_gpkg = gpd.GeoDataFrame(cells, geometry=population.geometry.values,
                                  crs=population.crs)
    files = [("coverage_units.csv", table), ("coverage_units.gpkg", unit_layer),
             ("coverage_cells.csv", cells_csv), ("coverage_cells.gpkg", cells_gpkg)]
    with staged_files(out_dir) as stage:          # all four files, or none
        for name, frame in files:
            write_table(frame, stage / name)
    return [out_dir / name for name, _ in files]


def _progress(total: int, desc: str):
    """Return ``(step(name), close())`` for a tqdm bar on a terminal (no-ops otherwise)."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return (lambda _name: None), (lambda: None)
    bar = tqdm(total=total, desc=desc, unit="step", file=sys.stderr,
               disable=not sys.stderr.isatty())

    def step(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update(1)

    return step, bar.close


def cmd_coverage(args: argparse.Namespace) -> int:
    """Compute the population within T minutes of facilities; print and write the tables."""
    from geoplan._errors import GeoplanInputError
    from geoplan.inputs.facility_types import default_vocabulary

    minutes = sorted(set(args.minutes))
    if not all(0 < m < float("inf") for m in minutes):
        raise GeoplanInputError(f"minutes must be positive, got {args.minutes}",
                                field="minutes", hint="e.g. --minutes 15 30")
    _coverage_check_first(args)
    step, close = _progress(2 + len(set(args.mode)), "coverage")
    try:
        inputs = _coverage_inputs(args)
        step("inputs read")
        units_by_mode, cells = _coverage_tables(args, inputs, minutes, step)
        written = _write_coverage(Path(args.out), units_by_mode, cells, inputs[1], inputs[0],
                                  args.level)
        step("written")
    finally:
        close()
    from geoplan import labels

    vocab = default_vocabulary()
    types = ", ".join(vocab.label(vocab.code_of(t) or t, args.lang) for t in args.types) \
        if args.types else labels.text("cli.all_facilities", args.lang)
    span = "/".join(f"{t:g}" for t in minutes)
    for mode, units in units_by_mode:
        print("\n" + labels.text("cli.coverage_head", args.lang, span=span, types=types,
                                 mode=labels.mode(mode, args.lang)))
        _print_coverage(units, args.level, minutes, args.lang)
    print("\n" + labels.text("cli.written", args.lang))
    for path in written:
        print(f"  {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for documentation and tests)."""
    parser = _Parser(
        prog="geoplan",
        description="Plan where health services go: coverage, gaps and optimal sites.",
    )
    parser.add_argument("--version", action="version", version=f"geoplan {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="progress and solver log on stderr (logger 'geoplan')")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ins = sub.add_parser(
        "inspect", help="read, validate and summarise input files or a region folder",
        description="Read any supported input (facilities/candidates CSV or GIS file, "
                    "population raster or grid, admin boundaries, OSM/PBF/GraphML roads, or a "
                    "folder with region.toml), validate it and print a summary.")
    ins.add_argument("files", nargs="+", help="files, or a folder/region.toml manifest")
    ins.add_argument("--kind", default="auto",
                     choices=["auto", "facilities", "candidates", "population", "boundaries",
                              "network"], help="what the files hold (default: guess)")
    ins.add_argument("--crs", help="coordinate system of the files (not of --boundaries): "
                     "EPSG code, or gcj02 / bd09 (converted to WGS-84, every vertex)")
    ins.add_argument("--boundaries", help="admin units file to tag points and cells with")
    ins.add_argument("--encoding", help="text encoding (default: UTF-8, then GBK/GB18030)")
    ins.add_argument("--lang", default="en", choices=["en", "zh"], help="label language")
    ins.add_argument("--vocabulary", help="TOML file of extra facility types")
    ins.add_argument("--population-column", help="population column of a vector grid")
    ins.add_argument("--values", default="counts", choices=["counts", "density"],
                     help="population raster values: people per cell or per km²")
    for col in COLUMN_OPTIONS:
        ins.add_argument(f"--{col.replace('_', '-')}", dest=col,
                         help=f"name of the {col} column (facilities/candidates; --name also "
                              "boundaries)" if col == "name" else f"name of the {col} column")
    ins.add_argument("--code", help="name of the unit code column of boundaries")
    ins.set_defaults(func=cmd_inspect)

    cov = sub.add_parser(
        "coverage", help="population within T minutes of facilities, per unit and per cell",
        description="Compute how many people reach the facilities (optionally of some types) "
                    "within each cut-off by each travel mode, per admin unit and per "
                    "population cell; print the per-unit summary and write CSV (UTF-8 with "
                    "BOM, for Excel) and GeoPackage tables.")
    cov.add_argument("region", nargs="?", help="region folder or region.toml (optional when "
                     "--facilities, --population and --network are given)")
    cov.add_argument("--facilities", help="facilities file (overrides the region's)")
    cov.add_argument("--population", help="population raster or grid (overrides the region's)")
    cov.add_argument("--network", help="road network .osm/.osm.pbf/.graphml (overrides the "
                     "region's)")
    cov.add_argument("--boundaries", help="admin units file (overrides the region's)")
    cov.add_argument("--mode", nargs="+", default=["walk"], choices=["walk", "ebike", "drive"],
                     help="travel mode(s) (default: walk)")
    cov.add_argument("--minutes", nargs="+", type=float, default=[15.0, 30.0],
                     help="cut-off(s) in minutes (default: 15 30)")
    cov.add_argument("--types", nargs="+", help="facility types to count (codes or labels, "
                     "e.g. insurance_service_point or 医保服务站); default all")
    cov.add_argument("--level", default="admin_code",
                     help="boundary column to group by (default admin_code; e.g. "
                          "district_code)")
    cov.add_argument("--out", default="outputs/coverage",
                     help="output folder (default outputs/coverage; created if missing)")
    cov.add_argument("--crs", help="coordinate system of the facilities table "
                     "(e.g. gcj02, bd09; default WGS-84)")
    cov.add_argument("--encoding", help="text encoding of the facilities table")
    cov.add_argument("--lang", default="en", choices=["en", "zh"], help="label language")
    cov.set_defaults(func=cmd_coverage)
    from geoplan.cli.maps import add_map_parsers
    add_map_parsers(sub)
    run = sub.add_parser(
        "run", help="run scenario files end to end (default: the demo scenarios)",
        description="Run scenario files: coverage, models, maps, report, summary.json and "
                    "run_log.json per scenario. With no argument, runs the shipped demo "
                    "scenarios (data/demo/scenarios).")
    run.add_argument("scenarios", nargs="*", help="scenario .toml files or folders of them")
    run.add_argument("--out", help="parent output folder (default: each file's 'output', "
                                   "else outputs/<file name>)")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    _verbose_option(run)
    run.set_defaults(func=cmd_run)
    _add_optimize_parser(sub)
    cmp_ = sub.add_parser("compare", help="compare the summaries of several runs",
                          description="Side-by-side table and bar chart of runs' summaries.")
    cmp_.add_argument("runs", nargs="+", help="output folders of 'geoplan run'")
    cmp_.add_argument("--out", default="outputs/comparison", help="where to write the "
                      "table and chart (default outputs/comparison)")
    cmp_.add_argument("--lang", default="en", choices=["en", "zh"],
                      help="language of the chart (default en)")
    cmp_.set_defaults(func=cmd_compare)
    _add_init_parser(sub)
    return parser


def _add_optimize_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``geoplan optimize`` command (one model, keys as in a ``[[model]]`` table)."""
    opt = sub.add_parser(
        "optimize", help="run one location model on a region (sites, tables, summary)",
        description="Run one location model (the same kinds and keys as [[model]] in a "
                    "scenario file) on a region folder; write the chosen sites (GeoPackage "
                    "+ CSV with lon/lat in WGS-84 and, for GCJ-02/BD-09 inputs, in that "
                    "system; the new sites as GeoJSON and KML), per-unit tables and a JSON "
                    "summary.")
    opt.add_argument("region", help="region folder or region.toml")
    from geoplan.scenario.spec import MODEL_KINDS
    # a tiered plan's tiers are tables: it is written as a scenario file (geoplan run)
    opt.add_argument("--model", required=True, choices=[k for k in MODEL_KINDS if k != "tiered"],
                     help="the model kind (a tiered plan needs a scenario file with "
                          "[[model.tiers]] tables: geoplan run)")
    opt.add_argument("--name", help="name used in output files (default: the model kind)")
    opt.add_argument("--mode", choices=["walk", "ebike", "drive"])
    opt.add_argument("--minutes", type=float, help="time standard (minutes)")
    for key in ("existing_types", "candidate_types", "upgrade_types", "demand_levels",
                "hospital_types", "new_site_types", "centre_types", "host_types"):
        opt.add_argument(f"--{key.replace('_', '-')}", dest=key, nargs="+")
    for key in ("p", "p_max", "total", "per_type", "max_types_per_host", "new_site_min_beds",
                "new_site_max_beds"):
        opt.add_argument(f"--{key.replace('_', '-')}", dest=key, type=int)
    for key in ("budget", "target_share", "unit_min_share", "urban_minutes", "rural_minutes",
                "ratio", "cost_per_bed", "max_add_share", "new_site_fixed_cost", "min_share",
                "time_limit", "gap"):
        opt.add_argument(f"--{key.replace('_', '-')}", dest=key, type=float)
    opt.add_argument("--level", help="boundary column for per-unit targets (e.g. district_code)")
    opt.add_argument("--force-open", dest="force_open", nargs="+", metavar="ID",
                     help="candidate site ids that must be in the plan")
    opt.add_argument("--force-closed", dest="force_closed", nargs="+", metavar="ID",
                     help="candidate site ids that must stay out of the plan")
    opt.add_argument("--max-new-per-unit", dest="max_new_per_unit", nargs="+",
                     metavar="N|UNIT=N", help="most new sites in any admin unit (N), or per "
                     "unit (UNIT=N ...; units left out are not capped)")
    opt.add_argument("--solver", choices=["cbc", "highs"])
    _verbose_option(opt)
    opt.add_argument("--max-snap-m", type=float, default=1000.0)
    opt.add_argument("--out", default="outputs/optimize", help="output folder")
    opt.set_defaults(func=cmd_optimize)


def _verbose_option(parser: argparse.ArgumentParser) -> None:
    """``--verbose`` after a command too (it does not reset the global one when absent)."""
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="progress and solver log on stderr (logger 'geoplan')")


def _parse_caps(values: Sequence[str]) -> int | dict[str, int]:
    """``--max-new-per-unit``: one whole number, or ``UNIT=N`` items."""
    from geoplan._errors import GeoplanInputError

    hint = "e.g. --max-new-per-unit 2, or --max-new-per-unit 320402=1 320403=2"
    if len(values) == 1 and "=" not in values[0]:
        try:
            return int(values[0])
        except ValueError:
            raise GeoplanInputError(f"not a whole number: {values[0]!r}",
                                    field="max_new_per_unit", hint=hint) from None
    caps: dict[str, int] = {}
    for item in values:
        unit, sep, n = item.partition("=")
        try:
            if not sep or not unit:
                raise ValueError
            caps[unit] = int(n)
        except ValueError:
            raise GeoplanInputError(f"expected UNIT=N, got {item!r}",
                                    field="max_new_per_unit", hint=hint) from None
    return caps


#: Where ``geoplan run`` looks for the demo scenarios: the working directory (a clone of
#: the repository) first, then beside the package (an editable install).
DEMO_SCENARIO_DIRS = (Path("data") / "demo" / "scenarios",
                      Path(__file__).resolve().parents[2] / "data" / "demo" / "scenarios")


def _scenario_files(items: Sequence[str]) -> list[Path]:
    from geoplan._errors import GeoplanInputError
    if not items:
        found = [d for d in DEMO_SCENARIO_DIRS if d.is_dir()]
        if not found:
            raise GeoplanInputError("no scenario given and the demo scenarios are not here",
                                    path=DEMO_SCENARIO_DIRS[0],
                                    hint="run from the repository folder, or give a "
                                         "scenario file: geoplan run SCENARIO.toml")
        items = [str(found[0])]
    files: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found_here = sorted(p.glob("*.toml"))
            if not found_here:
                raise GeoplanInputError("the folder holds no scenario file (*.toml)", path=p,
                                        hint="give scenario files, or a folder with some "
                                             "(see data/demo/scenarios/)")
            files += found_here
        else:
            files.append(p)
    return files


def cmd_run(args: argparse.Namespace) -> int:
    """Run scenario files (default: the shipped demo scenarios) and print a summary."""
    import time

    from geoplan.scenario.run import run_scenario
    from geoplan.scenario.spec import read_scenario

    files = _scenario_files(args.scenarios)
    # validate every file before running any of them
    scenarios = [read_scenario(f) for f in files]
    verbose = bool(getattr(args, "verbose", False))
    if args.out:
        for sc in scenarios:
            sc.output = (Path(args.out) / sc.path.stem).resolve()
    if verbose:
        for sc in scenarios:
            sc.models = [m.updated(verbose=True) for m in sc.models]
    cache: dict = {}
    t0 = time.perf_counter()
    for sc in scenarios:
        t = time.perf_counter()
        log.info("running scenario %s", sc.path)
        with _solver_output_to_stderr(verbose):
            res = run_scenario(sc, progress=not args.quiet and not verbose
                               and sys.stderr.isatty(), region_cache=cache)
        _print_run(res, time.perf_counter() - t)
    print(f"\n{len(scenarios)} scenario(s) in {time.perf_counter() - t0:,.1f} s; "
          f"compare them with: geoplan compare "
          + " ".join(str(sc.output) for sc in scenarios))
    return 0


def _print_run(res, seconds: float) -> None:
    s = res.summary
    print(f"\n== {res.scenario.name}  ({seconds:,.1f} s) -> {res.output}")
    for cov in s.get("coverage", []):
        for mode, figs in cov["modes"].items():
            shares = ", ".join(f"{k[6:]} {v:.1%}" for k, v in figs.items()
                               if k.startswith("share_") and v is not None)
            print(f"  coverage {cov['name']:<22} {mode:<6} {shares}")
    lang = res.scenario.language
    for m in s.get("models", []):
        print(f"  model    {m['name']:<22} " + ", ".join(_plan_line(m, lang)))


#: The figures of a plan the run's summary line shows (the report shows them all).
_LINE_FIGURES = ("new_sites", "upgraded_sites", "beds_added", "cost", "share_after",
                 "mean_minutes", "worst_minutes", "units_met")


def _plan_line(m: dict, lang: str) -> list[str]:
    """A plan's status and key figures, with units, in the scenario's language (the
    figures summary.json holds: :func:`geoplan.optimize.figures.plan_figures`)."""
    from geoplan import labels
    from geoplan.optimize.figures import UNITS

    parts = [labels.value("status", m["status"], lang)]
    figs = m.get("figures") or {}
    for key in _LINE_FIGURES:
        if key not in figs or figs[key] is None:
            continue
        label, shown = labels.figure(key, figs[key], UNITS[key], lang)
        if key == "share_after" and figs.get("share_before") is not None:
            label = labels.text("fig.share", lang)
            shown = (labels.figure("share_before", figs["share_before"], "share", lang)[1]
                     + " -> " + shown)
        if key == "units_met" and figs.get("units") is not None:
            shown = f"{shown} / {figs['units']:,.0f}"
        parts.append(f"{label} {shown}")
    if m.get("gap"):
        parts.append(f"{labels.header('gap', lang)} {m['gap']:.2%}")
    return parts


_OPT_KEYS = ("mode", "minutes", "existing_types", "candidate_types", "upgrade_types",
             "demand_levels", "p", "budget", "target_share", "unit_min_share", "p_max",
             "urban_minutes", "rural_minutes", "ratio", "level", "hospital_types",
             "cost_per_bed", "max_add_share", "new_site_types", "new_site_fixed_cost",
             "new_site_min_beds", "new_site_max_beds", "centre_types", "host_types", "total",
             "per_type", "max_types_per_host", "min_share", "solver", "time_limit", "gap",
             "force_open", "force_closed")


def _site_outputs(plan, region, tables: dict[str, pd.DataFrame]):
    """The plan's sites with lon/lat in WGS-84 and in the inputs' own system (None without
    sites); the ``sites`` table to write gets the same columns."""
    if plan.sites is None:
        return None
    from geoplan.scenario.outputs import site_table

    sites = site_table(plan.sites, region)
    tables["sites"] = pd.DataFrame(sites).drop(columns="geometry", errors="ignore")
    return sites


def cmd_optimize(args: argparse.Namespace) -> int:
    """Run one location model on a region; write the plan's sites, tables and summary."""
    import json

    from geoplan._atomic import atomic_path, staged_files, write_table
    from geoplan.inputs.region import load_region
    from geoplan.scenario.models import run_model
    from geoplan.scenario.resolve import resolve_model
    from geoplan.scenario.spec import check_model

    verbose = bool(getattr(args, "verbose", False))
    given: dict[str, Any] = {"name": args.name or args.model, "kind": args.model}
    for key in _OPT_KEYS:
        value = getattr(args, key, None)
        if value is not None:
            given[key] = value
    if args.max_new_per_unit is not None:
        given["max_new_per_unit"] = _parse_caps(args.max_new_per_unit)
    if verbose:
        given["verbose"] = True
    m = resolve_model(args.region, check_model(given))   # types, levels, ids: before loading
    log.info("loading region %s", args.region)
    # beds per 1,000 needs no travel times: skip the road network
    region = (load_region(args.region, layers=("population", "facilities", "candidates"))
              if m.kind == "beds_to_ratio" else load_region(args.region))
    log.info("running %s model '%s'", m.kind, m.name)
    with _solver_output_to_stderr(verbose):
        plan, tables = run_model(region, m, max_snap_m=args.max_snap_m)
    log.info("%s: %s in %.2f s (build %.2f s)", m.name, plan.status,
             plan.build_s + plan.solve_s, plan.build_s)
    out = Path(args.out)
    names = []
    summary = {k: v for k, v in plan.summary().items()}
    if plan.explanation is not None:
        summary["explanation"] = str(plan.explanation)
    sites = _site_outputs(plan, region, tables)
    with staged_files(out) as stage:              # every file of the plan, or none
        for name, table in tables.items():
            names.append(f"{m.name}_{name}.csv")
            write_table(table, stage / names[-1])
        if sites is not None and len(sites):
            names.append(f"{m.name}_sites.gpkg")
            write_table(sites, stage / names[-1])
            from geoplan.scenario.outputs import write_site_files
            names += write_site_files(sites, stage, f"{m.name}_new_sites",
                                      f"{region.name}: {m.name}")
        names.append(f"{m.name}_summary.json")
        with atomic_path(stage / names[-1]) as tmp:
            tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str),
                           encoding="utf-8")
    written = [out / n for n in names]
    print(f"{plan!r}")
    if plan.explanation is not None:
        print(f"  {plan.explanation}")
    if plan.reduction is not None:
        print(f"  reduction: {plan.reduction}")
    if plan.by_unit is not None:
        _print_table(plan.by_unit.drop(columns="geometry", errors="ignore"), "{:,.3f}")
    print("written: " + ", ".join(str(p) for p in written))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare the summaries of several runs: a table on screen, CSV and a bar chart."""
    from geoplan.scenario.compare import compare_runs, write_comparison

    table = compare_runs(args.runs)
    _print_table(table.drop(columns=["scenario"]), "{:,.3f}")
    files = write_comparison(table, args.out, lang=args.lang)
    print(f"\nwritten: {files['csv']}, {files['chart']}")
    return 0


# --------------------------------------------------------------------------- geoplan init


def _add_init_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``geoplan init`` (a region folder from a planner's files; geoplan.scenario.init)."""
    ini = sub.add_parser(
        "init", help="write a region folder (region.toml + starter scenarios) from your files",
        description="Read your files with geoplan's readers, write DIR/region.toml naming "
                    "them and the columns geoplan matched (with a comment on every key), and "
                    "DIR/scenarios/ with starter scenarios for the seed questions, each "
                    "checked against the region; then check every layer as 'geoplan inspect "
                    "DIR' does. Nothing is written unless every check passes; data files are "
                    "referenced, not copied.")
    ini.add_argument("folder", metavar="DIR", help="region folder to write (created if "
                     "missing)")
    ini.add_argument("--facilities", metavar="FILE", help="existing facilities: CSV/TXT "
                     "with lon/lat, or GeoJSON/GeoPackage/Shapefile points")
    ini.add_argument("--population", metavar="FILE", help="population: GeoTIFF of people "
                     "per cell (e.g. WorldPop), or a vector grid with a population column")
    ini.add_argument("--boundaries", metavar="FILE", help="admin units: GeoJSON/GeoPackage/"
                     "Shapefile polygons with a code column")
    ini.add_argument("--roads", metavar="FILE", help="roads: .osm, .osm.bz2, .osm.pbf or "
                     ".graphml")
    ini.add_argument("--place", metavar="NAME", help='instead of --roads: download the roads '
                     'of "County, Province, China" from OpenStreetMap with osmnx (online)')
    ini.add_argument("--candidates", metavar="FILE", help="candidate sites for new "
                     "facilities (optional; as --facilities, with a site type column)")
    ini.add_argument("--crs", help="coordinates of the point layers (facilities, "
                     "candidates): gcj02 (Gaode/Tencent), bd09 (Baidu), wgs84 (GPS, the "
                     "default for tables) or an EPSG code")
    for layer, what in (("facilities", "the facilities' coordinates"),
                        ("candidates", "the candidates' coordinates"),
                        ("boundaries", "the boundaries (a file without one; gcj02/bd09 "
                                       "for DataV or Gaode exports)"),
                        ("population", "the population (a file without one)")):
        ini.add_argument(f"--{layer}-crs", dest=f"{layer}_crs", metavar="CRS",
                         help=f"CRS of {what} (overrides --crs)")
    ini.add_argument("--encoding", help="text encoding of the tables (default: detected, "
                     "UTF-8 or GBK/GB18030), e.g. gbk")
    from geoplan.scenario.init import COLUMN_KEYS
    for layer, keys in COLUMN_KEYS.items():
        ini.add_argument(f"--{layer}-columns", dest=f"{layer}_columns", action="append",
                         metavar="KEY=COLUMN", help=f"columns of the {layer} file geoplan "
                         f"does not match itself ({', '.join(keys)}), e.g. "
                         f"{keys[0]}=编号,{keys[-1]}=... (repeatable)")
    ini.add_argument("--values", default="counts", choices=["counts", "density"],
                     help="population raster values: people per cell or per km²")
    ini.add_argument("--vocabulary", metavar="FILE", help="TOML file of extra facility types")
    ini.add_argument("--name", help="region name (default: the folder's name)")
    ini.add_argument("--lang", default="en", choices=["en", "zh"],
                     help="language of the scenarios' pages and of the type labels shown")
    ini.add_argument("--force", action="store_true", help="replace an existing region.toml "
                     "and starter scenarios")
    ini.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    """Write a region folder from the given files: region.toml, starter scenarios; then
    check and summarise every layer as ``geoplan inspect`` does (before writing)."""
    import io

    from geoplan.scenario import init

    plan = init.plan_init(
        args.folder, facilities=args.facilities, population=args.population,
        boundaries=args.boundaries, roads=args.roads, place=args.place,
        candidates=args.candidates, crs=args.crs,
        layer_crs={k: getattr(args, f"{k}_crs") for k in ("facilities", "candidates",
                                                           "boundaries", "population")},
        encoding=args.encoding, values=args.values, vocabulary=args.vocabulary,
        columns={k: init.parse_columns(k, getattr(args, f"{k}_columns"))
                 for k in init.COLUMN_KEYS if getattr(args, f"{k}_columns")},
        name=args.name, lang=args.lang, force=args.force)
    print("reading every layer, as geoplan inspect does ...", file=sys.stderr)
    shown = io.StringIO()
    with init.check_copy(plan) as manifest, warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stdout(shown):
        warnings.simplefilter("default", GeoplanWarning)
        _inspect_region(str(manifest), args)            # an unreadable layer stops here
    written = init.write_init(plan)
    for w in caught:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    print(f"== geoplan init: {plan.folder}")
    print("\n".join(init.describe(plan)))
    print(shown.getvalue().replace(str(manifest), str(plan.manifest)), end="")
    notes = [str(w.message) for w in caught if issubclass(w.category, GeoplanWarning)]
    if notes:
        print(f"\n== warnings ({len(notes)})")
        for note in notes:
            print(f"  {note}")
    print("\n== written")
    for path in written:
        print(f"  {path}")
    for name, reasons in plan.left_out.items():
        for reason in reasons:
            print(f"  {name}: left out (commented): {reason}")
    folder = plan.folder
    print(f"\nnext: check or edit {plan.manifest}, then run the starter scenarios:\n"
          f"  geoplan run {folder / 'scenarios'}")
    return 0


def run() -> None:
    """The ``geoplan`` command (console script, ``python -m geoplan``, ``cli.py``).

    Exits with :func:`main`'s status. An interrupted run (Ctrl-C, SIGTERM: 130) has
    already removed its staged outputs and stopped its solver children while unwinding;
    it then leaves without interpreter finalization, where a native library thread still
    winding down (a HiGHS solve, an OSM reader) can abort the process ("Fatal Python
    error: PyThreadState_Get", seen once under load) instead of exiting with 130.
    """
    import gc
    import os

    code = main()
    if code == 130:
        gc.collect()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on bad input.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    if args.command is None:
        parser.print_help()
        return 0

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
        print(f"warning: {message}", file=sys.stderr)

    with warnings.catch_warnings(), _verbose_logging(bool(getattr(args, "verbose", False))), \
            _sigterm_as_interrupt():
        warnings.simplefilter("default", GeoplanWarning)
        warnings.showwarning = show
        try:
            return int(args.func(args) or 0)
        except GeoplanError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_INPUT_ERROR
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Handle SIGTERM (``kill``, a service manager, a closed terminal session) like
    Ctrl-C: staged outputs are removed, solver children stopped, earlier results kept."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield                                    # signals reach only the main thread
        return

    def interrupt(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

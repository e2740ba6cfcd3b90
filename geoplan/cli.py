"""The ``geoplan`` command line. Thin: every command calls public functions.

Errors in the input are printed as one clear message (file, row, field, what to do) and
the command exits with status 2; warnings are printed and the command goes on.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import __version__
from ._errors import GeoplanError, GeoplanWarning

EXIT_INPUT_ERROR = 2


def _print_table(df: pd.DataFrame, floatfmt: str = "{:,.1f}") -> None:
    with pd.option_context("display.max_rows", 200, "display.width", 160,
                           "display.max_columns", 20):
        print(df.to_string(index=False, float_format=lambda x: floatfmt.format(x)))


def _print_kv(title: str, items: dict[str, str]) -> None:
    print(f"\n== {title}")
    for k, val in items.items():
        print(f"  {k:<14} {val}")


def _columns(args: argparse.Namespace) -> dict[str, str]:
    keys = ("id", "name", "type", "beds", "lon", "lat")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None)}


def _inspect_file(path: str, args: argparse.Namespace, boundaries) -> None:
    from . import io, summary
    from .facility_types import load_vocabulary
    from .studyarea import StudyArea

    kind = args.kind if args.kind != "auto" else io.guess_layer_kind(path, args.encoding)
    area = StudyArea.from_geodataframe(boundaries, crs=boundaries.crs) if boundaries is not None \
        else None
    if kind == "network":
        graph = io.read_network(path, area=area)
        head, by_class = summary.network_summary(graph)
        _print_kv(f"{path}: road network", head)
        _print_table(by_class, "{:,.2f}")
    elif kind == "population":
        pop = io.read_population(path, column=args.population_column, crs=args.crs, area=area,
                                 boundaries=boundaries, encoding=args.encoding,
                                 values=args.values)
        _print_kv(f"{path}: population", summary.extent_summary(pop) | {
            "population": f"{pop['population'].sum():,.0f} in {len(pop):,} populated cells"})
        _print_table(summary.population_by_unit(pop, boundaries), "{:,.2f}")
    elif kind == "boundaries":
        units = io.read_boundaries(path, crs=args.crs)
        _print_kv(f"{path}: admin units", summary.extent_summary(units) | {
            "area": f"{units.area.sum() / 1e6:,.1f} km²"})
        cols = [c for c in units.columns if c != units.geometry.name][:6]
        _print_table(units[cols].assign(area_km2=units.area / 1e6))
    else:
        reader = io.read_facilities if kind == "facilities" else io.read_candidates
        extra = {"vocabulary": load_vocabulary(args.vocabulary)} if kind == "facilities" else {}
        pts = reader(path, crs=args.crs, area=area, boundaries=boundaries,
                     columns=_columns(args), encoding=args.encoding, **extra)
        _print_kv(f"{path}: {kind}", summary.extent_summary(pts))
        if kind == "facilities":
            _print_table(summary.facility_summary(pts, extra["vocabulary"], args.lang), "{:,.0f}")
        else:
            print(f"  cost           {pts['cost'].sum():,.1f} in all "
                  f"({pts['cost'].notna().sum()} sites with a cost)")
        if boundaries is not None:
            print("\n  by admin unit:")
            _print_table(pts.groupby(pts["admin_code"].fillna("(none)")).size()
                         .rename("count").reset_index())


def _inspect_region(path: str, args: argparse.Namespace) -> None:
    from . import summary
    from .region import load_region

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

    region = load_region(path, progress=note)
    if bar is not None:
        bar.close()
    title = region.name + (f" / {region.name_zh}" if region.name_zh else "")
    _print_kv(f"region {title}", {
        "manifest": str(region.manifest), "crs": region.area.crs.to_string(),
        "area": f"{region.area.area_km2:,.1f} km²"})
    if region.boundaries is not None:
        print(f"  units          {len(region.boundaries)}")
    if region.population is not None:
        _print_kv("population by admin unit", {
            "total": f"{region.population['population'].sum():,.0f} people in "
                     f"{len(region.population):,} populated cells"})
        _print_table(summary.population_by_unit(region.population, region.boundaries),
                     "{:,.2f}")
    if region.facilities is not None:
        _print_kv("facilities by type", summary.extent_summary(region.facilities))
        _print_table(summary.facility_summary(region.facilities, region.vocabulary, args.lang),
                     "{:,.0f}")
    if region.candidates is not None:
        _print_kv("candidate sites", summary.extent_summary(region.candidates))
    if region.network is not None:
        head, by_class = summary.network_summary(region.network)
        _print_kv("road network", head)
        _print_table(by_class, "{:,.2f}")


def cmd_inspect(args: argparse.Namespace) -> int:
    """Read, validate and summarise input files or a region folder."""
    from . import io

    boundaries = io.read_boundaries(args.boundaries) if args.boundaries else None
    for path in args.files:
        p = Path(path)
        if p.is_dir() or p.suffix.lower() == ".toml":
            _inspect_region(path, args)
        else:
            _inspect_file(path, args, boundaries)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="geoplan",
        description="Plan where health services go: coverage, gaps and optimal sites.",
    )
    parser.add_argument("--version", action="version", version=f"geoplan {__version__}")
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
    ins.add_argument("--crs", help="input coordinate system: EPSG code, or gcj02 / bd09")
    ins.add_argument("--boundaries", help="admin units file to tag points and cells with")
    ins.add_argument("--encoding", help="text encoding (default: UTF-8, then GBK/GB18030)")
    ins.add_argument("--lang", default="en", choices=["en", "zh"], help="label language")
    ins.add_argument("--vocabulary", help="TOML file of extra facility types")
    ins.add_argument("--population-column", help="population column of a vector grid")
    ins.add_argument("--values", default="counts", choices=["counts", "density"],
                     help="population raster values: people per cell or per km²")
    for col in ("id", "name", "type", "beds", "lon", "lat"):
        ins.add_argument(f"--{col}", help=f"name of the {col} column")
    ins.set_defaults(func=cmd_inspect)
    return parser


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
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
        print(f"warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

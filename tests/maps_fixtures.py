"""Demo-region inputs for the map, report and browser tests, computed once per session.

The real readers and travel engine on ``data/demo``: e-bike coverage of all facilities at
10 and 15 minutes, per-unit tables, beds per 1,000 by district, catchments, gap areas,
and a plan (five candidate sites as new insurance service points, beds added at two
hospitals) with the times to the nearest service point before and after it.
"""

from __future__ import annotations

import functools
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import shapely
from conftest import DEMO

PLAN_CANDIDATES = (3, 50, 100, 200, 300)


@functools.cache
def demo() -> SimpleNamespace:
    """Region, coverage tables and a plan for the demo region (cached)."""
    from geoplan.access import coverage
    from geoplan.inputs.region import load_region
    from geoplan.optimize.plan import Plan
    from geoplan.travel.times import nearest_facility_time

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        region = load_region(DEMO)
        ctx = coverage.travel_context(region.network, "ebike", region.population)
        fac = region.facilities
        cells = coverage.coverage_by_cell(ctx, fac, [10, 15])
        units = coverage.coverage_by_unit(ctx, fac, [10, 15], boundaries=region.boundaries)
        beds = coverage.beds_per_1000(region.population, fac, region.boundaries)
        catch = coverage.catchments(ctx, fac).facilities
        gaps = coverage.gaps(ctx, fac, 15, min_population=1.0)
        points = fac[fac["type"] == "insurance_service_point"]
        sel = np.array(PLAN_CANDIDATES)
        xy_points = shapely.get_coordinates(points.geometry.values)
        xy_new = shapely.get_coordinates(region.candidates.geometry.values[sel])
        before, _ = nearest_facility_time(ctx.net, ctx.cells, xy_points)
        after, _ = nearest_facility_time(ctx.net, ctx.cells, np.vstack([xy_points, xy_new]))
    plan_cells = region.population.copy()
    plan_cells["minutes"] = before / 60.0
    plan_cells["minutes_after"] = after / 60.0
    pop = plan_cells["population"].to_numpy()
    ok_b, ok_a = before <= 900.0, after <= 900.0
    by_unit = pd.DataFrame({"admin_code": plan_cells["admin_code"].astype(str),
                            "population": pop, "covered_before": pop * ok_b,
                            "covered_after": pop * ok_a}).groupby("admin_code").sum()
    by_unit["share_before"] = by_unit["covered_before"] / by_unit["population"]
    by_unit["share_after"] = by_unit["covered_after"] / by_unit["population"]
    hospitals = fac[fac["beds"] > 0]["id"].iloc[:2].to_numpy()
    plan = Plan(model="max_covering", selected=sel, existing=np.arange(len(points)),
                status="optimal", objective=float((pop * ok_a).sum()),
                bound=float((pop * ok_a).sum()), gap=0.0, solver="test", build_s=0.1,
                solve_s=0.2, covered_before=float((pop * ok_b).sum()),
                covered_after=float((pop * ok_a).sum()), total_demand=float(pop.sum()),
                beds_added=pd.Series([50.0, 80.0], index=hospitals),
                by_unit=by_unit.reset_index())
    return SimpleNamespace(region=region, ctx=ctx, cells=cells, units=units, beds=beds,
                           catchments=catch, gaps=gaps, plan=plan, plan_cells=plan_cells,
                           hospitals=hospitals)


def coverage_inputs():
    """MapInputs of the demo coverage map (no plan)."""
    from geoplan.maps.canvas import MapInputs

    d = demo()
    r = d.region
    return MapInputs(boundaries=r.boundaries, population=d.cells, facilities=r.facilities,
                     candidates=r.candidates, units=[d.units, d.beds],
                     catchments=d.catchments, gaps=d.gaps, minutes=(10, 15))


def plan_inputs():
    """MapInputs of the demo plan map (before/after)."""
    from geoplan.maps.canvas import MapInputs

    d = demo()
    r = d.region
    return MapInputs(boundaries=r.boundaries, population=d.plan_cells,
                     facilities=r.facilities, candidates=r.candidates, plan=d.plan,
                     minutes=(15,))


def run_map_cli(argv: list[str], monkeypatch) -> int:
    """Run ``geoplan map``/``geoplan report`` on the demo region of :func:`demo`."""
    import argparse
    from pathlib import Path

    from geoplan.cli.maps import add_map_parsers

    d = demo()
    monkeypatch.setattr("geoplan.inputs.region.load_region", lambda *a, **k: d.region)
    # the synthetic region has no manifest: the commands' early checks see one with
    # boundaries (as the region has)
    monkeypatch.setattr("geoplan.inputs.region.read_manifest",
                        lambda *a, **k: ({"boundaries": {}}, Path("demo/region.toml")))
    parser = argparse.ArgumentParser(prog="geoplan")
    add_map_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)

"""Properties of the coverage figures on random street networks (hypothesis).

Whatever the network, the people and the facilities:

* times are non-negative (NaN only where nothing can be reached);
* adding a facility never lowers coverage, in any unit, at any cut-off;
* a longer cut-off never lowers coverage;
* per-unit populations (and covered people) add up to the total row;
* catchment populations plus the unreachable add up to the total population;
* with capacities, every person is exactly one of served / over capacity / out of reach.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoplan.access import coverage as cv
from geoplan.travel.network import compile_network

pytestmark = pytest.mark.filterwarnings("ignore::geoplan.GeoplanWarning")

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CLASSES = ["residential", "residential", "primary", "footway", "track", "motorway"]
CODES = ["A", "B", "C", None]


@st.composite
def worlds(draw):
    """Return a random street grid, population cells, facilities and a travel mode."""
    n = draw(st.integers(2, 5))
    spacing = draw(st.sampled_from([150.0, 400.0, 900.0]))
    G = nx.MultiDiGraph(crs="EPSG:32650")
    for i in range(n):
        for j in range(n):
            G.add_node(i * n + j, x=j * spacing, y=i * spacing)
    pairs = [(i * n + j, i * n + j + 1) for i in range(n) for j in range(n - 1)]
    pairs += [(i * n + j, (i + 1) * n + j) for i in range(n - 1) for j in range(n)]
    keep = draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    for (u, v), k in zip(pairs, keep, strict=True):
        if not k and G.number_of_edges():
            continue
        hw = draw(st.sampled_from(CLASSES)) if G.number_of_edges() else "residential"
        oneway = draw(st.booleans())
        a, b = (v, u) if draw(st.booleans()) else (u, v)
        G.add_edge(a, b, length=spacing, highway=hw, oneway=oneway)
        if not oneway:
            G.add_edge(b, a, length=spacing, highway=hw, oneway=False)
    span = (n - 1) * spacing
    coord = st.floats(-1500.0, span + 1500.0, allow_nan=False)
    k = draw(st.integers(1, 12))
    cells = gpd.GeoDataFrame({
        "cell_id": np.arange(k),
        "population": draw(st.lists(st.integers(0, 1000), min_size=k, max_size=k)),
        "admin_code": draw(st.lists(st.sampled_from(CODES), min_size=k, max_size=k)),
    }, geometry=gpd.points_from_xy(draw(st.lists(coord, min_size=k, max_size=k)),
                                   draw(st.lists(coord, min_size=k, max_size=k))),
        crs="EPSG:32650")
    m = draw(st.integers(2, 5))
    fac = gpd.GeoDataFrame({
        "id": [f"F{i}" for i in range(m)],
        "type": draw(st.lists(st.sampled_from(["village_clinic", "township_health_centre"]),
                              min_size=m, max_size=m)),
        "beds": draw(st.lists(st.integers(0, 5), min_size=m, max_size=m)),
        "capacity": np.nan,
    }, geometry=gpd.points_from_xy(draw(st.lists(coord, min_size=m, max_size=m)),
                                   draw(st.lists(coord, min_size=m, max_size=m))),
        crs="EPSG:32650")
    mode = draw(st.sampled_from(["walk", "drive"]))
    direction = draw(st.sampled_from(["to_facility", "from_facility"]))
    return G, cells, fac, mode, direction


def context(G, cells, mode, direction):
    net = compile_network(G, mode, warn=False)
    return cv.travel_context(net, None, cells, direction=direction)


MINUTES = st.lists(st.floats(0.5, 60.0), min_size=1, max_size=3)


@SETTINGS
@given(worlds(), MINUTES)
def test_times_non_negative_and_units_add_up(world, minutes):
    G, cells, fac, mode, direction = world
    ctx = context(G, cells, mode, direction)
    per_cell = cv.coverage_by_cell(ctx, fac, minutes)
    t = per_cell["minutes"].to_numpy()
    assert (t[~np.isnan(t)] >= 0).all()
    np.testing.assert_array_equal(np.isnan(t), per_cell["facility_id"].isna())
    units = cv.coverage_by_unit(ctx, fac, minutes)
    body, total = units.iloc[:-1], units.iloc[-1]
    assert total["admin_code"] == "total"
    pop = float(cells["population"].sum())
    assert body["population"].sum() == pytest.approx(pop)
    assert total["population"] == pytest.approx(pop)
    for m in sorted(set(minutes)):
        col = f"covered_{cv.minutes_label(m)}"
        assert body[col].sum() == pytest.approx(total[col])
        direct = cells["population"].to_numpy()[per_cell[col].to_numpy()].sum()
        assert total[col] == pytest.approx(direct)
        assert (body[col] <= body["population"] + 1e-9).all()
        # covered means within T
        assert (t[per_cell[col].to_numpy()] <= m + 1e-9).all()


@SETTINGS
@given(worlds(), MINUTES, st.floats(0.0, 30.0))
def test_coverage_never_falls(world, minutes, longer):
    G, cells, fac, mode, direction = world
    ctx = context(G, cells, mode, direction)
    fewer = fac.iloc[:-1]
    small = cv.coverage_by_unit(ctx, fewer, minutes)
    more = cv.coverage_by_unit(ctx, fac, minutes)
    ts = sorted(set(minutes))
    for m in ts:
        col = f"covered_{cv.minutes_label(m)}"
        assert (more[col].to_numpy() >= small[col].to_numpy() - 1e-9).all()
    both = cv.coverage_by_unit(ctx, fac, [ts[0], ts[0] + longer])
    cols = [c for c in both.columns if c.startswith("covered_")]
    assert (both[cols[-1]].to_numpy() >= both[cols[0]].to_numpy() - 1e-9).all()
    near_few = cv.coverage_by_cell(ctx, fewer, ts)["minutes"].to_numpy()
    near_all = cv.coverage_by_cell(ctx, fac, ts)["minutes"].to_numpy()
    assert (np.nan_to_num(near_all, nan=np.inf) <= np.nan_to_num(near_few, nan=np.inf)
            + 1e-9).all()


@SETTINGS
@given(worlds(), st.one_of(st.none(), st.floats(1.0, 60.0)))
def test_catchments_partition_the_population(world, max_minutes):
    G, cells, fac, mode, direction = world
    ctx = context(G, cells, mode, direction)
    catch = cv.catchments(ctx, fac, max_minutes=max_minutes)
    per = catch.facilities
    assert per["population"].sum() == pytest.approx(float(cells["population"].sum()))
    assert per["cells"].sum() == len(cells)
    assert (per["population"] >= 0).all()
    assigned = catch.cells["facility_id"].notna().to_numpy()
    assert per["population"].iloc[-1] == pytest.approx(
        cells["population"].to_numpy()[~assigned].sum())


@SETTINGS
@given(worlds(), st.floats(1.0, 60.0), st.floats(1.0, 500.0))
def test_capacity_accounts_for_everyone(world, minutes, per_bed):
    G, cells, fac, mode, direction = world
    ctx = context(G, cells, mode, direction)
    fac = fac.assign(capacity=np.where(fac["beds"] > 0, np.nan, 50.0))
    rep = cv.coverage_with_capacity(ctx, fac, minutes, persons_per_bed=per_bed)
    parts = rep.cells[["served", "over_capacity", "out_of_reach"]].to_numpy()
    assert (parts >= -1e-9).all()
    np.testing.assert_allclose(parts.sum(axis=1), cells["population"].to_numpy(), atol=1e-6)
    assert (rep.facilities["served"] <= rep.facilities["capacity"] + 1e-6).all()
    assert rep.units["served"].iloc[-1] == pytest.approx(rep.facilities["served"].sum())
    plain = cv.coverage_by_unit(ctx, fac, minutes)
    reach = plain[f"covered_{cv.minutes_label(minutes)}"].iloc[-1]
    # within reach of some facility = served + over capacity
    assert rep.units["served"].iloc[-1] + rep.units["over_capacity"].iloc[-1] == \
        pytest.approx(reach)

"""Coverage analytics on the demo region, on hand-made networks and on real OSM roads.

Travel times are checked against networkx Dijkstra on a graph built straight from the
osmnx MultiDiGraph (fastest parallel edge, speeds from the profile rule, OSM access tags
read by the tests' own rule); per-unit
tables against sums of the per-cell tables; beds per 1,000 against the figures in
data/demo/README.md; isochrones against point-by-point travel times at the grid
centres.
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import DEMO, osm_barred, shared_path

from geoplan import GeoplanInputError, GeoplanWarning
from geoplan.access import coverage as cv
from geoplan.access.isochrones import isochrones
from geoplan.inputs.readers import read_network, read_population
from geoplan.inputs.region import load_region
from geoplan.travel.network import compile_network
from geoplan.travel.profiles import edge_speed_kmh
from geoplan.travel.times import snap_points, travel_time_matrix

pytestmark = pytest.mark.filterwarnings("ignore::geoplan.GeoplanWarning")

HOSPITALS = ["tertiary_hospital", "secondary_hospital", "tcm_hospital",
             "township_health_centre", "rural_regional_centre"]


@pytest.fixture(scope="module")
def demo():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeoplanWarning)
        region = load_region(DEMO, layers=("population", "facilities", "network"))
        ctx = {m: cv.travel_context(region.network, m, region.population)
               for m in ("walk", "drive")}
    return region, ctx


# ------------------------------------------------------------------ networkx reference


def nx_graph(G, profile):
    """DiGraph of edge seconds built from the osmnx graph without geoplan's compiler."""
    D = nx.DiGraph()
    for u, v, d in G.edges(data=True):
        hw = d.get("highway")
        kmh = edge_speed_kmh(profile, tuple(hw) if isinstance(hw, list) else hw,
                             d.get("maxspeed"))
        if kmh <= 0 or u == v or osm_barred(d, profile.name):
            continue
        w = d["length"] / (kmh / 3.6)
        pairs = [(u, v)] if profile.respect_oneway else [(u, v), (v, u)]
        for a, b in pairs:
            if not D.has_edge(a, b) or D[a][b]["w"] > w:
                D.add_edge(a, b, w=w)
    return D


def reference_nearest(G, net, cell_xy, fac_xy):
    """Seconds from each cell to its nearest facility by networkx Dijkstra (to_facility).

    A point joins its road at the snapped position; entering/leaving through either end
    node costs the snapped offsets, between nodes networkx finds the path. Cells on the
    same road segment as a facility are returned as NaN (they may travel along it
    directly; the engine's tests cover that case).
    """
    C = snap_points(net, cell_xy, warn=False)
    F = snap_points(net, fac_xy, warn=False)
    R = nx_graph(G, net.profile).reverse(copy=False)
    best = np.full(len(C), np.inf)
    for f in np.flatnonzero(F.reachable):
        for b in range(2):
            node = net.osmids[F.nodes[f, b]]
            dist = nx.single_source_dijkstra_path_length(R, node, weight="w")
            for c in np.flatnonzero(C.reachable):
                for a in range(2):
                    d = dist.get(net.osmids[C.nodes[c, a]], np.inf)
                    best[c] = min(best[c], C.entry_s[c, a] + d + F.exit_s[f, b])
    same = np.isin(C.segment, F.segment[F.reachable]) & C.reachable
    best[same] = np.nan
    return best


def _xy(gdf):
    return shapely.get_coordinates(gdf.geometry.values)


@pytest.mark.parametrize(("mode", "types"), [("walk", "insurance_service_point"),
                                             ("drive", "emergency_station")])
def test_demo_times_equal_networkx_dijkstra(demo, mode, types):
    region, ctx = demo
    ctx = ctx[mode]
    rng = np.random.default_rng(3)
    sample = np.sort(np.r_[rng.choice(np.flatnonzero(ctx.cells.reachable), 60, replace=False),
                           rng.choice(np.flatnonzero(~ctx.cells.reachable), 3, replace=False)])
    cells = cv.coverage_by_cell(ctx, region.facilities, [15, 30], types=types)
    fac = region.facilities[region.facilities["type"] == types]
    want = reference_nearest(region.network, ctx.net, _xy(region.population.iloc[sample]),
                             _xy(fac))
    got = cells["minutes"].to_numpy()[sample] * 60.0
    check = ~np.isnan(want)
    assert check.sum() >= 55
    np.testing.assert_array_equal(np.isinf(want[check]), np.isnan(got[check]))
    fin = check & np.isfinite(want)
    np.testing.assert_allclose(got[fin], want[fin], rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(cells["covered_15min"].to_numpy()[sample][check],
                                  want[check] <= 900.0)


def test_real_osm_times_equal_networkx_dijkstra():
    G = read_network(shared_path("porto_alegre", "poa_osm.pbf"))
    pop = read_population(shared_path("porto_alegre", "poa_hexgrid.csv"))
    poi = pd.read_csv(shared_path("porto_alegre", "poa_points_of_interest.csv")).iloc[::3]
    fac = gpd.GeoDataFrame({"id": poi["id"], "type": "function_centre"},
                           geometry=gpd.points_from_xy(poi["lon"], poi["lat"]), crs=4326)
    net = compile_network(G, "drive", warn=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeoplanWarning)
        ctx = cv.travel_context(net, "drive", pop)
        cells = cv.coverage_by_cell(ctx, fac, [5, 10])
    want = reference_nearest(G, net, _xy(pop.to_crs(net.crs)), _xy(fac.to_crs(net.crs)))
    got = cells["minutes"].to_numpy() * 60.0
    check = ~np.isnan(want)
    assert check.sum() > 0.9 * len(pop)
    np.testing.assert_array_equal(np.isinf(want[check]), np.isnan(got[check]))
    fin = check & np.isfinite(want)
    np.testing.assert_allclose(got[fin], want[fin], rtol=1e-9, atol=1e-6)
    # one-way streets: driving there and back differ somewhere
    back = cv.travel_context(net, None, pop, direction="from_facility")
    other = cv.coverage_by_cell(back, fac, 5)["minutes"].to_numpy() * 60.0
    assert np.nanmax(np.abs(other - got)) > 1.0


# ------------------------------------------------------------------ demo tables


def test_demo_coverage_by_unit_adds_up(demo):
    region, ctx = demo
    ctx = ctx["walk"]
    cells = cv.coverage_by_cell(ctx, region.facilities, [15, 30],
                                types="insurance_service_point")
    units = cv.coverage_by_unit(ctx, region.facilities, [30, 15],
                                types="医保服务站", boundaries=region.boundaries)
    body, total = units.iloc[:-1], units.iloc[-1]
    assert list(body["admin_code"]) == list(region.boundaries["admin_code"])
    assert total["admin_code"] == "total"
    pop = region.population["population"].sum()
    assert body["population"].sum() == pytest.approx(pop)
    assert total["population"] == pytest.approx(pop)
    for t in ("15min", "30min"):
        by_cell = (cells["population"] * cells[f"covered_{t}"]).groupby(cells["admin_code"]).sum()
        np.testing.assert_allclose(body.set_index("admin_code")[f"covered_{t}"],
                                   by_cell.reindex(body["admin_code"]).fillna(0))
        assert total[f"covered_{t}"] == pytest.approx(body[f"covered_{t}"].sum())
        assert total[f"share_{t}"] == pytest.approx(total[f"covered_{t}"] / pop)
    assert (body["covered_30min"] >= body["covered_15min"]).all()
    # the towns without a service point and far from the centre are not covered at all
    assert (body["share_15min"] == 0).sum() >= 3
    assert 0.05 < total["share_15min"] < 0.6
    # grouping by district is the sum of its towns
    districts = cv.coverage_by_unit(ctx, region.facilities, 15, types="insurance_service_point",
                                    boundaries=region.boundaries, level="district_code")
    assert list(districts.columns[:2]) == ["district_code", "district_name"]
    d_of = region.boundaries.set_index("admin_code")["district_code"]
    by_district = body.groupby(body["admin_code"].map(d_of))["covered_15min"].sum()
    np.testing.assert_allclose(districts.set_index("district_code")["covered_15min"].iloc[:-1],
                               by_district.reindex(districts["district_code"].iloc[:-1]))


def test_demo_nearest_by_type_and_catchments(demo):
    region, ctx = demo
    ctx = ctx["walk"]
    types = ["village_clinic", "insurance_service_point"]
    near = cv.nearest_by_type(ctx, region.facilities, types)
    assert list(near.columns[4:8]) == ["village_clinic_min", "village_clinic_id",
                                       "insurance_service_point_min",
                                       "insurance_service_point_id"]
    both = cv.coverage_by_cell(ctx, region.facilities, 15, types=types)
    np.testing.assert_allclose(np.fmin(near["village_clinic_min"],
                                       near["insurance_service_point_min"]), both["minutes"])
    ids = region.facilities.set_index("id")["type"]
    assert set(ids[near["village_clinic_id"].dropna()]) == {"village_clinic"}
    catch = cv.catchments(ctx, region.facilities, types="insurance_service_point")
    per = catch.facilities
    assert per["population"].sum() == pytest.approx(region.population["population"].sum())
    np.testing.assert_array_equal(catch.cells["facility_id"].fillna("-"),
                                  near["insurance_service_point_id"].fillna("-"))
    assert per["id"].iloc[-1] == "(unreachable)"
    own = catch.cells.groupby("facility_id")["population"].sum()
    np.testing.assert_allclose(per.set_index("id")["population"].iloc[:-1],
                               own.reindex(per["id"].iloc[:-1]).fillna(0))
    limited = cv.catchments(ctx, region.facilities, types="insurance_service_point",
                            max_minutes=15)
    un = limited.facilities["population"].iloc[-1]
    cov = cv.coverage_by_unit(ctx, region.facilities, 15, types="insurance_service_point")
    assert un == pytest.approx(cov["population"].iloc[-1] - cov["covered_15min"].iloc[-1])


def test_demo_gaps_hold_the_uncovered_people(demo):
    region, _ = demo
    # one town (merging the gap polygons of the whole region takes seconds)
    pop = region.population[region.population["admin_code"] == "990104102"]
    ctx = cv.travel_context(region.network, "walk", pop)
    gaps = cv.gaps(ctx, region.facilities, 15, types="village_clinic")
    cells = cv.coverage_by_cell(ctx, region.facilities, 15, types="village_clinic")
    uncovered = cells.loc[~cells["covered_15min"], "population"].sum()
    assert 0 < uncovered < pop["population"].sum()
    assert gaps["population"].sum() == pytest.approx(uncovered)
    assert gaps["cells"].sum() == (~cells["covered_15min"]).sum()
    assert list(gaps["gap_id"]) == list(range(1, len(gaps) + 1))
    assert gaps["population"].is_monotonic_decreasing
    assert set(gaps["admin_units"]) == {"990104102"}
    big = cv.gaps(ctx, region.facilities, 15, types="village_clinic", min_population=100)
    assert len(big) < len(gaps) and (big["population"] >= 100).all()
    # a gap polygon holds exactly its uncovered cells' centres
    inside = shapely.contains_xy(shapely.union_all(gaps.geometry.values),
                                 *_xy(cells).T)
    np.testing.assert_array_equal(inside, ~cells["covered_15min"].to_numpy())


def test_demo_isochrones_agree_with_point_times(demo):
    region, ctx = demo
    ctx = ctx["walk"]
    iso = isochrones(ctx, region.facilities, [5, 10, 15], types="insurance_service_point")
    assert len(iso) == 8 * 3
    assert list(iso["minutes"][:3]) == [5.0, 10.0, 15.0]
    for _, group in iso.groupby("facility_id"):
        g = group.sort_values("minutes").geometry.to_numpy()
        assert g[1].buffer(1e-6).contains(g[0]) and g[2].buffer(1e-6).contains(g[1])
        assert group["area_km2"].is_monotonic_increasing
    # grid centres around one facility: inside the polygon iff within T by the engine
    one = region.facilities[region.facilities["id"] == "I001"]
    fx, fy = _xy(one)[0]
    res = 100.0
    gx, gy = np.meshgrid(np.arange(-30, 30) * res + res / 2 + np.floor(fx / res) * res,
                         np.arange(-30, 30) * res + res / 2 + np.floor(fy / res) * res)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeoplanWarning)
        t = travel_time_matrix(ctx.net, _xy(one), pts, 900.0, direction="to_source")
    t = t.toarray().ravel()
    for minutes in (5.0, 15.0):
        poly = iso[(iso["facility_id"] == "I001") & (iso["minutes"] == minutes)].geometry.iloc[0]
        inside = shapely.contains_xy(poly, pts[:, 0], pts[:, 1])
        np.testing.assert_array_equal(inside, (t > 0) & (t <= minutes * 60))
    # population column: the same as coverage by that facility alone
    alone = cv.coverage_by_unit(ctx, one, [5, 15])
    row = iso[iso["facility_id"] == "I001"].set_index("minutes")["population"]
    assert row[5.0] == pytest.approx(alone["covered_5min"].iloc[-1])
    assert row[15.0] == pytest.approx(alone["covered_15min"].iloc[-1])


def test_demo_capacity_and_accessibility(demo):
    region, ctx = demo
    ctx = ctx["drive"]
    rep = cv.coverage_with_capacity(ctx, region.facilities, 30, types=HOSPITALS,
                                    boundaries=region.boundaries, level="district_code")
    fac, units = rep.facilities, rep.units
    hosp = region.facilities[region.facilities["type"].isin(HOSPITALS)]
    np.testing.assert_allclose(fac["capacity"], hosp["beds"].to_numpy() * 1000 / 7)
    assert (fac["served"] <= fac["capacity"] + 1e-6).all()
    assert (fac["served"] <= fac["demand_in_reach"] + 1e-6).all()
    parts = units[["served", "over_capacity", "out_of_reach"]].sum(axis=1)
    np.testing.assert_allclose(parts, units["population"])
    assert units["served"].iloc[-1] == pytest.approx(fac["served"].sum())
    # 6,170 beds x 1000/7 people per bed < 1.02 million: somebody is over capacity
    assert units["over_capacity"].iloc[-1] > 0
    acc = cv.accessibility_index(ctx, region.facilities, 30, types=HOSPITALS,
                                 boundaries=region.boundaries)
    pop = region.population["population"].to_numpy()
    cells = acc.cells["access_per_1000"].to_numpy()
    total = acc.units.iloc[-1]
    assert total["access_per_1000"] == pytest.approx((pop * cells).sum() / pop.sum())
    reached = acc.facilities["demand_in_reach"] > 0
    # binary 2SFCA conserves supply: Σ P_i A_i / 1000 = beds of facilities someone reaches
    assert (pop * cells).sum() / 1000 == pytest.approx(acc.facilities["supply"][reached].sum())
    body = acc.units.iloc[:-1]
    assert (body["population"] * body["access_per_1000"]).sum() == pytest.approx(
        (pop * cells).sum())


def test_demo_beds_per_1000_match_the_readme(demo):
    region, _ = demo
    table = cv.beds_per_1000(region.population, region.facilities, region.boundaries)
    got = table.set_index("district_code")
    readme = {"990101": (300_402, 3270, 10.89), "990102": (191_751, 890, 4.64),
              "990103": (242_335, 510, 2.10), "990104": (287_484, 1500, 5.22)}
    for code, (pop, beds, ratio) in readme.items():
        assert got.loc[code, "population"] == pytest.approx(pop, abs=1)
        assert got.loc[code, "beds"] == beds
        assert got.loc[code, "beds_per_1000"] == pytest.approx(ratio, abs=0.005)
        assert got.loc[code, "beds_short"] == max(0, math.ceil(7 * got.loc[code, "population"]
                                                               / 1000 - beds))
        assert got.loc[code, "met"] == (ratio >= 7)
    assert got.loc["total", "beds"] == 6170
    assert got.loc["total", "beds_short"] == got["beds_short"].iloc[:-1].sum()
    towns = cv.beds_per_1000(region.population, region.facilities, region.boundaries,
                             level="admin_code", target=2.0)
    assert towns["beds"].iloc[:-1].sum() == 6170 and (towns["target"] == 2.0).all()


def test_snapping_warnings_count_people():
    ctx, pop, fac, _ = hand_case()
    pop = pop.set_geometry(pop.geometry.translate(0.0, 0.125))   # not snapped before
    with pytest.warns(GeoplanWarning, match=r"1 of 5 population cells \(50 people\) are more "
                                            r"than 1000 m from any road"):
        cv.travel_context(ctx.net, None, pop)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cv.travel_context(ctx.net, None, pop)          # cached: no second warning


def test_snapping_is_cached(demo):
    region, ctx = demo
    again = cv.travel_context(region.network, "walk", region.population)
    assert again.cells is ctx["walk"].cells and again.net is ctx["walk"].net
    some = region.population.iloc[100_000:100_050]
    first = cv.travel_context(region.network, "walk", some).cells
    moved = some.set_geometry(some.geometry.translate(30.0, 0.0))
    other = cv.travel_context(region.network, "walk", moved).cells
    assert other is not first
    fresh = snap_points(ctx["walk"].net, _xy(moved), warn=False)
    np.testing.assert_array_equal(other.access_m, fresh.access_m)
    assert not np.array_equal(other.access_m, first.access_m)


# ------------------------------------------------------------------ hand-made network


def line_graph():
    """Return a 2 km east-west road (nodes every 500 m); walking 500 m takes 6 min."""
    G = nx.MultiDiGraph(crs="EPSG:32650")
    for i in range(5):
        G.add_node(i, x=500.0 * i, y=0.0)
    for i in range(4):
        for a, b in ((i, i + 1), (i + 1, i)):
            G.add_edge(a, b, length=500.0, highway="residential", oneway=False)
    return G


def hand_case():
    G = line_graph()
    net = compile_network(G, "walk", warn=False)
    pop = gpd.GeoDataFrame({
        "cell_id": [1, 2, 3, 4, 5],
        "population": [100.0, 200.0, 300.0, 400.0, 50.0],
        "admin_code": ["A", "A", "B", "B", None],
        "admin_name": ["Aa", "Aa", "Bb", "Bb", None],
    }, geometry=gpd.points_from_xy([0, 500, 1000, 2000, 1000], [0, 0, 0, 0, 5000]),
        crs="EPSG:32650")
    fac = gpd.GeoDataFrame({"id": ["F1", "F2"], "name": ["one", "two"],
                            "type": ["village_clinic", "insurance_service_point"],
                            "beds": [0.0, 0.0], "capacity": [250.0, np.nan]},
                           geometry=gpd.points_from_xy([0, 2000], [0, 0]), crs="EPSG:32650")
    bounds = gpd.GeoDataFrame({"admin_code": ["A", "B", "C"], "admin_name": ["Aa", "Bb", "Cc"],
                               "district_code": ["D1", "D1", "D2"]},
                              geometry=[shapely.box(-100, -100, 700, 100),
                                        shapely.box(700, -100, 2100, 100),
                                        shapely.box(-100, 200, 10, 300)], crs="EPSG:32650")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeoplanWarning)
        ctx = cv.travel_context(net, "walk", pop)
    return ctx, pop, fac, bounds


def test_hand_checked_coverage_table():
    ctx, _, fac, bounds = hand_case()
    # cells 0, 6, 12 and 24 min from F1 (walking 500 m takes 6 min); cell 5 has no road
    cells = cv.coverage_by_cell(ctx, fac, [7, 13], types="village_clinic")
    np.testing.assert_allclose(cells["minutes"][:4], [0, 6, 12, 24])
    assert np.isnan(cells["minutes"][4]) and pd.isna(cells["facility_id"][4])
    assert cells["covered_7min"].tolist() == [True, True, False, False, False]
    units = cv.coverage_by_unit(ctx, fac, [13, 7], types="village_clinic", boundaries=bounds)
    assert units["admin_code"].tolist() == ["A", "B", "C", "(none)", "total"]
    assert units["population"].tolist() == [300, 700, 0, 50, 1050]
    assert units["covered_7min"].tolist() == [300, 0, 0, 0, 300]
    assert units["covered_13min"].tolist() == [300, 300, 0, 0, 600]
    assert units["share_13min"].iloc[1] == pytest.approx(300 / 700)
    assert np.isnan(units["share_13min"].iloc[2])
    assert units["share_13min"].iloc[-1] == pytest.approx(600 / 1050)
    assert list(units.columns) == ["admin_code", "admin_name", "population", "covered_7min",
                                   "share_7min", "covered_13min", "share_13min"]
    both = cv.coverage_by_unit(ctx, fac, 13, boundaries=bounds, level="district_code")
    assert both["district_code"].tolist() == ["D1", "D2", "(none)", "total"]
    assert both["covered_13min"].tolist() == [1000, 0, 0, 1000]
    no_bounds = cv.coverage_by_unit(ctx, fac, 13)
    assert no_bounds["admin_code"].tolist() == ["A", "B", "(none)", "total"]
    assert no_bounds["admin_name"].tolist()[:2] == ["Aa", "Bb"]


def test_capacity_needs_capacity_or_beds():
    ctx, _, fac, _ = hand_case()
    with pytest.raises(GeoplanInputError, match="neither a capacity nor beds") as err:
        cv.coverage_with_capacity(ctx, fac, 13)
    assert err.value.row == "facility F2"
    fac = fac.assign(beds=[0.0, 3.0])
    rep = cv.coverage_with_capacity(ctx, fac, 13, persons_per_bed=100.0)
    # F1: capacity 250 (column) takes cell 1 (100, 0 min) and 150 of cell 2 (6 min);
    # F2: 300 = 3 beds x 100 takes cell 4 (400 at 0 min)... only 300 of it
    # order: largest capacity first -> F2 (300) first: cell 4 (0 min) gets 300 of 400,
    # then cell 3 (12 min) nothing left; F1 (250): cell 1 100, cell 2 150 of 200.
    np.testing.assert_allclose(rep.facilities["served"], [250, 300])
    np.testing.assert_allclose(rep.cells["served"], [100, 150, 0, 300, 0])
    np.testing.assert_allclose(rep.cells["over_capacity"], [0, 50, 300, 100, 0])
    np.testing.assert_allclose(rep.cells["out_of_reach"], [0, 0, 0, 0, 50])
    assert rep.units["admin_code"].tolist() == ["A", "B", "(none)", "total"]
    assert rep.facilities["full"].tolist() == [True, True]


def test_hand_checked_catchments_and_index():
    ctx, _, fac, _ = hand_case()
    catch = cv.catchments(ctx, fac)
    # cell 3 (x=1000) is 12 min from both: tie goes to either; the others are clear
    assert catch.cells["facility_id"].tolist()[:2] == ["F1", "F1"]
    assert catch.cells["facility_id"][3] == "F2"
    assert catch.facilities["population"].sum() == 1050
    assert catch.facilities["population"].iloc[-1] == 50
    acc = cv.accessibility_index(ctx, fac, 7, supply=[10.0, 20.0])
    # F1 reaches cells 1, 2 (300 people): 10 / 300; F2 reaches cell 4 (400): 20 / 400
    np.testing.assert_allclose(acc.facilities["supply_per_1000"], [1000 * 10 / 300, 50.0])
    np.testing.assert_allclose(acc.cells["access_per_1000"], [100 / 3, 100 / 3, 0, 50, 0])
    np.testing.assert_allclose(acc.facilities["demand_in_reach"], [300, 400])


def test_input_errors():
    ctx, pop, fac, bounds = hand_case()
    with pytest.raises(GeoplanInputError, match="unknown facility type 'clinic'"):
        cv.coverage_by_unit(ctx, fac, 15, types="clinic")
    with pytest.raises(GeoplanInputError, match="no facilities of type emergency_station"):
        cv.coverage_by_unit(ctx, fac, 15, types="急救站")
    with pytest.raises(GeoplanInputError, match="minutes"):
        cv.coverage_by_unit(ctx, fac, [15, -1])
    with pytest.raises(GeoplanInputError, match="minutes"):
        cv.gaps(ctx, fac, "soon")
    with pytest.raises(GeoplanInputError, match="no column 'district_code'"):
        cv.coverage_by_unit(ctx, fac, 15, level="district_code")
    with pytest.raises(GeoplanInputError, match="boundaries have no column 'town'"):
        cv.coverage_by_unit(ctx, fac, 15, boundaries=bounds, level="town")
    bare = cv.travel_context(ctx.net)
    with pytest.raises(GeoplanInputError, match="no population"):
        cv.coverage_by_cell(bare, fac)
    with pytest.raises(GeoplanInputError, match="compiled for 'walk', not 'drive'"):
        cv.travel_context(ctx.net, "drive")
    with pytest.raises(GeoplanInputError, match="travel mode is needed"):
        cv.travel_context(line_graph())
    with pytest.raises(GeoplanInputError, match="negative population"):
        cv.travel_context(ctx.net, None, pop.assign(population=[1, -1, 1, 1, 1]))
    with pytest.raises(GeoplanInputError, match="lack column"):
        cv.coverage_by_cell(ctx, fac.drop(columns="type"))
    with pytest.raises(GeoplanInputError, match="supply"):
        cv.accessibility_index(ctx, fac, 10, supply="doctors")
    with pytest.raises(GeoplanInputError, match="target"):
        cv.beds_per_1000(pop, fac, bounds, target=-1)
    with pytest.raises(GeoplanInputError, match="resolution_m"):
        isochrones(ctx, fac, 5, resolution_m=0)


def test_hand_checked_isochrone_and_reprojection():
    ctx, pop, fac, _ = hand_case()
    iso = isochrones(ctx, fac.to_crs(4326), [2.7], types="village_clinic", resolution_m=50)
    poly = iso.geometry.iloc[0]
    # 2.7 min = 225 m walked: a grid centre (x, y) east of F1 needs |y| + x <= 225 m
    # (west of x=0 the road's end is nearest: straight-line distance to F1 <= 225 m)
    pts = [(175, 25), (225, 25), (125, -75), (25, 175), (75, 175), (-125, 125), (-175, 175)]
    assert [poly.contains(shapely.Point(p)) for p in pts] == [True, False, True, True, False,
                                                               True, False]
    assert iso["population"].iloc[0] == 100
    assert iso.crs == ctx.net.crs


def test_untagged_cells_and_facilities_are_tagged_by_location():
    ctx, pop, fac, bounds = hand_case()
    bare = pop.drop(columns=["admin_code", "admin_name"])
    plain = cv.travel_context(ctx.net, None, bare)
    units = cv.coverage_by_unit(plain, fac, 13, boundaries=bounds)
    assert units["admin_code"].tolist() == ["A", "B", "C", "(none)", "total"]
    assert units["population"].tolist() == [300, 700, 0, 50, 1050]
    beds = cv.beds_per_1000(bare, fac.assign(beds=[2.0, 5.0]), bounds, level="admin_code")
    assert beds["beds"].tolist() == [2.0, 5.0, 0.0, 0.0, 7.0]
    np.testing.assert_allclose(beds["beds_per_1000"][:2], [1000 * 2 / 300, 1000 * 5 / 700])
    # 7 per 1,000: A needs 2.1 -> 3 beds (has 2, short 1); B needs 4.9 (has 5)
    assert beds["beds_short"].tolist() == [1, 0, 0, 1, 2]
    assert beds["met"].tolist()[:3] == [False, True, True]


def test_cell_tables_keep_the_raster_so_gaps_group_as_the_population_does(demo):
    """coverage_by_cell keeps raster cells' row/col and the raster's attrs: gap areas of a
    per-cell table are the 8-connected areas of the population raster (traced on it in
    milliseconds), the same as grouping the population itself."""
    from geoplan.access.gaps import group_gaps

    region, ctx = demo
    cells = cv.coverage_by_cell(ctx["walk"], region.facilities, 15,
                                types="insurance_service_point")
    assert {"row", "col", "cell_area_m2"} <= set(cells.columns)
    assert cells.attrs["raster_transform"] == region.population.attrs["raster_transform"]
    out = ~cells["covered_15min"].to_numpy()
    a, b = group_gaps(cells, out), group_gaps(region.population, out)
    np.testing.assert_allclose(a["population"], b["population"])
    assert a["population"].sum() == pytest.approx(cells["population"][out].sum())


def test_gaps_split_at_unit_borders_are_each_one_units(demo):
    """Gap areas split at admin unit borders (the default): every area lies in one unit and
    is named by it, the people are the same as grouped across borders, no area is lost;
    min_area_km2 drops the small ones."""
    region, ctx = demo
    per_unit = cv.gaps(ctx["walk"], region.facilities, 15, types="insurance_service_point")
    across = cv.gaps(ctx["walk"], region.facilities, 15, types="insurance_service_point",
                     by_unit=False)
    assert (~per_unit["admin_units"].str.contains(",")).all()
    assert per_unit["admin_names"].str.len().gt(0).all()
    names = dict(zip(region.boundaries["admin_code"], region.boundaries["admin_name"],
                     strict=True))
    assert (per_unit["admin_units"].map(names) == per_unit["admin_names"]).all()
    assert per_unit["population"].sum() == pytest.approx(across["population"].sum())
    assert len(per_unit) > len(across) and across["admin_units"].str.contains(",").any()
    assert (per_unit["population"].diff().dropna() <= 1e-9).all()      # ranked by people
    big = cv.gaps(ctx["walk"], region.facilities, 15, types="insurance_service_point",
                  min_area_km2=1.0)
    assert (big["area_km2"] >= 1.0).all() and len(big) < len(per_unit)


# ------------------------------------------------------------- actionable gaps


def _gap_cells(gaps, cells):
    """Gap row -> positions of the cells whose centre lies in its polygon (brute force)."""
    xy = _xy(cells)
    return [np.flatnonzero(shapely.contains_xy(g, xy[:, 0], xy[:, 1]))
            for g in gaps.geometry.values]


def _site_reach(ctx, cands, minutes):
    """Cells within ``minutes`` of each candidate on its own (coverage_by_cell, one site
    at a time: the nearest-facility search, not the matrix closing_sites uses)."""
    return np.array([cv.coverage_by_cell(ctx, cands.iloc[[k]], [minutes])[
        f"covered_{minutes:g}min"].to_numpy() for k in range(len(cands))])


def test_gaps_are_named_by_the_nearest_place_to_their_people(demo):
    """Each gap is named by the OSM place node nearest its population-weighted centre: the
    demo's roads file carries the city, its 10 towns and 150 villages as place nodes;
    checked against a brute-force distance to every place."""
    from geoplan.access.gaps import name_gaps
    from geoplan.inputs.osm import places_of

    region, ctx = demo
    places = places_of(region.network)
    assert len(places) == 161 and set(places["place"]) == {"city", "town", "village"}
    assert places.crs.to_epsg() == 4326 and places["name"].str.len().gt(0).all()
    pop = region.population[region.population["admin_code"] == "990104102"]
    wctx = cv.travel_context(region.network, "walk", pop)
    gaps = cv.gaps(wctx, region.facilities, 15, types="village_clinic")
    named = name_gaps(gaps, pop, places)
    assert named["near_place"].str.len().gt(0).all()
    pxy = _xy(places.to_crs(pop.crs))
    for g, members in zip(named.itertuples(), _gap_cells(gaps, pop), strict=True):
        w = pop["population"].to_numpy()[members]
        centre = (_xy(pop)[members] * w[:, None]).sum(0) / w.sum()
        d = np.hypot(*(pxy - centre).T)
        assert g.near_place == places["name"].iloc[int(np.argmin(d))]
        assert g.near_place_km == pytest.approx(d.min() / 1000, abs=0.006)
    # raster cells are matched by burning the gaps into the raster; any other cells by
    # point-in-polygon: the same members
    from geoplan.access.gaps import gap_members
    plain = pop.copy()
    plain.attrs = {}
    fast, slow = gap_members(gaps, pop), gap_members(gaps, plain)
    assert len(fast[0]) == (~cv.coverage_by_cell(wctx, region.facilities, 15, types=
                                                 "village_clinic")["covered_15min"]).sum()
    np.testing.assert_array_equal(fast[0], slow[0])
    np.testing.assert_array_equal(fast[1], slow[1])
    # no places (a GraphML network, a download): the columns are there, empty
    bare = name_gaps(gaps, pop, None)
    assert (bare["near_place"] == "").all() and bare["near_place_km"].isna().all()


def test_closing_sites_are_the_greedy_best_by_an_independent_search(demo):
    """For every gap, the first closing site covers the most of its people of all
    candidates, each next one the most of the people still left (each site's reach from
    coverage_by_cell, one site at a time), the listed people add up, and the sites
    together cover exactly ``closed_people`` of the gap."""
    region, _ = demo
    pop = region.population[region.population["admin_code"].isin(["990104102", "990104100"])]
    ctx = cv.travel_context(region.network, "walk", pop)
    cands = load_region(DEMO, layers=("candidates",)).candidates
    cands = cands[cands["admin_code"].isin(["990104102", "990104100"])].head(40)
    gaps = cv.gaps(ctx, region.facilities, 15, types="village_clinic", candidates=cands)
    assert gaps["closing_sites"].str.len().gt(0).any()
    reach = _site_reach(ctx, cands, 15)
    people = pop["population"].to_numpy()
    ids = cands["id"].astype(str).to_numpy()
    for g, members in zip(gaps.itertuples(), _gap_cells(gaps, pop), strict=True):
        left = np.zeros(len(people), bool)
        left[members] = True
        chosen = [s for s in g.closing_sites.split(",") if s]
        adds = [float(v) for v in g.closing_people.split(",") if v]
        assert len(chosen) == len(adds) <= 3
        for sid, add in zip(chosen, adds, strict=True):
            gains = (reach & left) @ people
            k = int(np.flatnonzero(ids == sid)[0])
            assert gains[k] == pytest.approx(gains.max()) and round(gains[k]) == add
            left &= ~reach[k]
        if len(chosen) < 3:         # stopped: nothing worth a site is left
            gains = (reach & left) @ people
            assert gains.max() < max(1.0, 0.01 * g.population) + 1e-9
        union = reach[[int(np.flatnonzero(ids == s)[0]) for s in chosen]].any(0) \
            if chosen else np.zeros(len(people), bool)
        assert g.closed_people == pytest.approx(people[members][union[members]].sum())
        assert g.closed_share == pytest.approx(g.closed_people / g.population)


def test_closing_sites_hold_each_cell_to_its_own_standard(demo):
    """Per-cell standards (urban 10 / rural 20 min): a site closes a cell only within that
    cell's own standard; NaN standards are never closed."""
    region, _ = demo
    pop = region.population[region.population["admin_code"] == "990104102"]
    ctx = cv.travel_context(region.network, "walk", pop)
    cands = load_region(DEMO, layers=("candidates",)).candidates
    cands = cands[cands["admin_code"] == "990104102"].head(15)
    gaps = cv.gaps(ctx, region.facilities, 20, types="village_clinic")
    std = np.where(np.arange(len(pop)) % 2 == 0, 10.0, 20.0)
    std[::7] = np.nan
    out = cv.closing_sites(ctx, gaps, cands, std)
    r10, r20 = _site_reach(ctx, cands, 10), _site_reach(ctx, cands, 20)
    reach = np.where(std == 10.0, r10, r20) & np.isfinite(std)
    people = pop["population"].to_numpy()
    ids = cands["id"].astype(str).to_numpy()
    for g, members in zip(out.itertuples(), _gap_cells(gaps, pop), strict=True):
        chosen = [int(np.flatnonzero(ids == s)[0]) for s in g.closing_sites.split(",") if s]
        first = (reach[:, members] @ people[members]).max() if len(members) else 0.0
        if chosen:
            assert float(g.closing_people.split(",")[0]) == round(
                reach[chosen[0], members] @ people[members]) == round(first)
        union = reach[chosen].any(0) if chosen else np.zeros(len(people), bool)
        assert g.closed_people == pytest.approx(people[members][union[members]].sum())
    with pytest.raises(GeoplanInputError, match="top"):
        cv.closing_sites(ctx, gaps, cands, 15, top=0)
    none = cv.closing_sites(ctx, gaps, cands.iloc[:0], 15)
    assert (none["closing_sites"] == "").all() and (none["closed_share"] == 0).all()

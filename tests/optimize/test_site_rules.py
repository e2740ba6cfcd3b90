"""Site rules (force_open, force_closed, max_new_per_unit) in beds and function centres.

Brute-force oracles under the rules, bad inputs, the GIS front doors, the demo region, a
scenario file, quiet and verbose solver output and the ``geoplan`` logger.
"""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO

from geoplan import GeoplanInputError
from geoplan.optimize.beds import beds_to_ratio, beds_to_ratio_from_region
from geoplan.optimize.function_centres import function_centres, function_centres_from_problem

# --------------------------------------------------------------------------- beds


def _beds_oracle(pop, H, S, ratio, fo, fc, caps):
    """Cheapest plan by enumeration under the rules (columns: hospitals, then new sites).

    ``caps``: unit -> most new sites opened there (units left out: no cap).
    """
    nH = len(H)
    need = {u: ratio * p / 1000 for u, p in pop.items()}
    h_unit, h_beds, h_cost = list(H["unit"]), list(H["beds"]), list(H["cost_per_bed"])
    s_unit, s_fixed, s_cost = list(S["unit"]), list(S["fixed_cost"]), list(S["cost_per_bed"])
    h_opts = [[0] if i in fc else range(int(m) + 1) for i, m in enumerate(H["max_add"])]
    s_opts = []
    for s, (lo, hi) in enumerate(zip(S["min_beds"], S["max_beds"], strict=True)):
        opened = [(1, b) for b in range(int(lo), int(hi) + 1)]
        if nH + s in fc:
            s_opts.append([(0, 0)])
        elif nH + s in fo:
            s_opts.append(opened)
        else:
            s_opts.append([(0, 0)] + opened)
    best = None
    for zb in itertools.product(*s_opts):
        n_new: dict = {}
        for (z, _), u in zip(zb, s_unit, strict=True):
            n_new[u] = n_new.get(u, 0) + z
        if any(n > caps.get(u, 10**9) for u, n in n_new.items()):
            continue
        s_total = sum(f * z + c * b for (z, b), f, c in zip(zb, s_fixed, s_cost, strict=True))
        for ah in itertools.product(*h_opts):
            beds = dict.fromkeys(pop.index, 0.0)
            for u, b0, x in zip(h_unit, h_beds, ah, strict=True):
                beds[u] += b0 + x
            for u, (_, b) in zip(s_unit, zb, strict=True):
                beds[u] += b
            if all(beds[u] >= need[u] - 1e-9 for u in pop.index):
                cost = s_total + sum(c * x for c, x in zip(h_cost, ah, strict=True))
                best = cost if best is None else min(best, cost)
    return best


def _beds_instance(seed):
    rng = np.random.default_rng(seed)
    units = ["A", "B"]
    pop = pd.Series(rng.integers(0, 600, 2).astype(float), index=units)
    H = pd.DataFrame({"id": ["h0", "h1"], "unit": units,
                      "beds": rng.integers(0, 4, 2), "max_add": rng.integers(1, 5, 2),
                      "cost_per_bed": rng.integers(1, 6, 2)})
    S = pd.DataFrame({"id": ["s0", "s1", "s2"], "unit": rng.choice(units, 3),
                      "fixed_cost": rng.integers(0, 8, 3), "cost_per_bed": rng.integers(1, 6, 3),
                      "min_beds": rng.integers(0, 3, 3), "max_beds": rng.integers(2, 5, 3)})
    cols = rng.permutation(5)                  # hospitals 0, 1; new sites 2, 3, 4
    fo = sorted(int(c) for c in cols[:2] if c >= 2 and rng.random() < 0.5)
    fc = sorted(int(c) for c in cols[2:] if rng.random() < 0.4)
    forced = {u: sum(1 for c in fo if S["unit"].iloc[c - 2] == u) for u in units}
    caps = {u: forced[u] + int(rng.integers(0, 2)) for u in sorted(set(S["unit"]))
            if rng.random() < 0.7}
    return pop, H, S, fo, fc, caps


@pytest.mark.parametrize("seed", range(24))
def test_beds_rules_match_enumeration(seed):
    pop, H, S, fo, fc, caps = _beds_instance(seed)
    expect = _beds_oracle(pop, H, S, 7.0, fo, fc, caps)
    plan = beds_to_ratio(pop, H, S, force_open=fo, force_closed=fc,
                         max_new_per_unit=caps or None,
                         solver="cbc" if seed % 2 else "highs")
    if expect is None:
        assert plan.status == "infeasible"
        return
    assert plan.optimal, plan
    assert plan.objective == pytest.approx(expect)
    opened = set((plan.selected + len(H)).tolist())
    assert set(fo) <= opened and not opened & set(fc)
    added = plan.beds_added
    assert all(added.get(H["id"].iloc[h], 0) == 0 for h in fc if h < len(H))
    for u, cap in caps.items():
        assert sum(1 for c in opened if S["unit"].iloc[c - 2] == u) <= cap
    assert plan.details.get("force_open", []) == fo
    assert plan.details.get("force_closed", []) == fc


def test_beds_rules_equal_the_plain_model_with_the_rule_by_hand():
    pop = pd.Series({"A": 1000.0, "B": 800.0})                 # need 7 and 5.6 beds
    H = pd.DataFrame({"id": ["h1", "h2"], "unit": ["A", "B"], "beds": [2, 1],
                      "max_add": [5, 5], "cost_per_bed": [1.0, 2.0]})
    S = pd.DataFrame({"id": ["s1", "s2", "s3"], "unit": ["A", "A", "B"],
                      "fixed_cost": [3.0, 4.0, 2.0], "cost_per_bed": [1.5, 1.0, 1.0],
                      "min_beds": [2, 2, 1], "max_beds": [4, 4, 5]})
    # a hospital not to expand = the same hospital with max_add 0
    ruled = beds_to_ratio(pop, H, S, force_closed=[0])
    by_hand = beds_to_ratio(pop, H.assign(max_add=[0, 5]), S)
    assert ruled.optimal and by_hand.optimal
    assert ruled.objective == pytest.approx(by_hand.objective)
    # a closed new site = the model without it
    ruled = beds_to_ratio(pop, H, S, force_closed=[4])
    by_hand = beds_to_ratio(pop, H, S.iloc[:2])
    assert ruled.objective == pytest.approx(by_hand.objective)
    # a forced-open site = its fixed cost and minimum beds paid up front
    free = beds_to_ratio(pop, H, S)
    ruled = beds_to_ratio(pop, H, S, force_open=[2])
    assert 0 in ruled.selected and ruled.objective >= free.objective - 1e-9
    oracle = _beds_oracle(pop, H, S, 7.0, [2], [], {})
    assert ruled.objective == pytest.approx(oracle)
    # a cap of 0 in every unit = no new sites at all
    ruled = beds_to_ratio(pop, H, S, max_new_per_unit=0)
    assert ruled.objective == pytest.approx(beds_to_ratio(pop, H, None).objective)
    assert ruled.details["max_new_per_unit"] == {"A": 0, "B": 0}


def test_beds_rules_make_a_target_unreachable_and_say_so():
    pop = pd.Series({"A": 1000.0})
    H = pd.DataFrame({"id": ["h1"], "unit": "A", "beds": [2], "max_add": [3]})
    S = pd.DataFrame({"id": ["s1"], "unit": "A", "fixed_cost": 1.0, "min_beds": 0,
                      "max_beds": 5})
    assert beds_to_ratio(pop, H, S).optimal
    for kw in ({"force_closed": [1]}, {"max_new_per_unit": {"A": 0}}):
        plan = beds_to_ratio(pop, H, S, **kw)
        assert plan.status == "infeasible"
        assert plan.explanation.table["beds_short"].iloc[0] == 2
        assert "site rules" in plan.explanation.message()


@pytest.mark.parametrize("kw,field,words", [
    ({"force_open": [9]}, "force_open", "outside"),
    ({"force_open": [0]}, "force_open", "existing"),                   # a hospital
    ({"force_closed": [-1]}, "force_closed", "outside"),
    ({"force_open": [1], "force_closed": [1]}, "force_open", "both"),
    ({"force_open": [1, 2], "max_new_per_unit": 1}, "force_open", "allows 1"),
    ({"max_new_per_unit": -1}, "max_new_per_unit", ">= 0"),
    ({"max_new_per_unit": 1, "site_unit": ["A"]}, "site_unit", "1 values"),
    ({"max_new_per_unit": 1, "site_unit": ["A", None, "A"]}, "max_new_per_unit",
     "no admin unit"),
])
def test_beds_bad_rules(kw, field, words):
    pop = pd.Series({"A": 100.0})
    H = pd.DataFrame({"unit": ["A"], "beds": [1]})
    S = pd.DataFrame({"unit": ["A", "A"], "fixed_cost": 1.0, "max_beds": 3})
    with pytest.raises(GeoplanInputError) as e:
        beds_to_ratio(pop, H, S, **kw)
    assert e.value.field == field and words in str(e.value), str(e.value)


BEDS_MODEL = {"level": "district_code", "ratio": 7.0, "cost_per_bed": 60.0,
              "max_add_share": 0.5,
              "hospital_types": ["tertiary_hospital", "secondary_hospital", "tcm_hospital",
                                 "township_health_centre", "rural_regional_centre"],
              "new_site_types": ["township land"], "new_site_fixed_cost": 8000.0,
              "new_site_min_beds": 100, "new_site_max_beds": 500}


@pytest.fixture(scope="module")
def beds_region():
    from geoplan import load_region
    return load_region(DEMO, layers=("population", "facilities", "candidates"))


def test_beds_gis_door_takes_ids_and_unit_caps(beds_region):
    free = beds_to_ratio_from_region(beds_region, **BEDS_MODEL)
    assert free.optimal
    # close a site the free optimum opens, open one it does not (ties: any optimum)
    new_free = sorted(free.sites.loc[free.sites["status"] == "new", "site_id"])
    shut = new_free[0]
    assert "S0151" not in new_free and shut.startswith("S")
    caps = {"990103": 3, "990104": 2}
    plan = beds_to_ratio_from_region(beds_region, **BEDS_MODEL, force_open=["S0151"],
                                     force_closed=[shut, "H003"], max_new_per_unit=caps)
    assert plan.optimal and plan.by_unit["met"].all()
    ids = set(plan.sites["site_id"])
    assert "S0151" in ids and shut not in ids and "H003" not in ids
    assert plan.objective >= free.objective - 1e-6
    new = plan.sites[plan.sites["status"] == "new"]
    district = beds_region.candidates.set_index("id")["admin_code"].map(dict(zip(
        beds_region.boundaries["admin_code"], beds_region.boundaries["district_code"],
        strict=True)))
    counts = new["site_id"].map(district).value_counts()
    assert all(counts.get(u, 0) <= c for u, c in caps.items())
    assert plan.details["force_open_ids"] == ["S0151"]
    assert plan.details["force_closed_ids"] == sorted(["H003", shut])
    assert plan.details["max_new_per_unit"] == caps


@pytest.mark.parametrize("kw,words", [
    ({"force_open": ["S9999"]}, "no new hospital site or hospital has id S9999"),
    ({"force_open": ["H003"]}, "H003 is an existing hospital"),
    ({"force_closed": ["S0001"]}, "S0001 is a candidate site but not a new hospital site"),
    ({"force_closed": ["C001"]}, "C001 is an existing facility but not one of the model"),
])
def test_beds_gis_door_bad_ids(beds_region, kw, words):
    with pytest.raises(GeoplanInputError) as e:
        beds_to_ratio_from_region(beds_region, **BEDS_MODEL, **kw)
    assert e.value.field == next(iter(kw)) and words in str(e.value), str(e.value)


# --------------------------------------------------------------------------- function centres


def _fc_oracle(C, w, E, total, per_type, m, existing, rules):
    """Most people covered (summed over kinds) by enumeration under the rules.

    ``rules`` = (forced-open hosts, forced-closed hosts, unit per host, unit -> cap).
    """
    fo, fc, unit, caps = rules
    n_hosts, K = E.shape
    pairs = [(h, k) for h in range(n_hosts) for k in range(K)
             if E[h, k] and (h, k) not in existing and h not in fc]
    best = None
    for r in range(len(pairs) + 1):
        if total is not None and r > total:
            break
        for S in itertools.combinations(pairs, r):
            allp = list(existing) + list(S)
            if per_type is not None and any(sum(1 for _, k in S if k == kk) > per_type
                                            for kk in range(K)):
                continue
            if any(sum(1 for h, _ in allp if h == hh) > m for hh, _ in S):
                continue
            if any(not any(h == hh for h, _ in S) for hh in fo):
                continue
            if any(sum(1 for h, _ in S if unit[h] == u) > c for u, c in caps.items()):
                continue
            cov = sum(float(w @ C[:, [h for h, k in allp if k == kk]].any(axis=1))
                      for kk in range(K))
            best = cov if best is None else max(best, cov)
    return best


def _fc_instance(seed):
    rng = np.random.default_rng(seed)
    n, hosts, K = int(rng.integers(2, 9)), 4, 2
    C = rng.random((n, hosts)) < 0.5
    w = rng.integers(0, 20, n).astype(float)
    E = rng.random((hosts, K)) < 0.8
    existing = [(0, 0)] if rng.random() < 0.3 else []
    total = int(rng.integers(1, 4))
    per_type = int(rng.integers(1, 3)) if rng.random() < 0.4 else None
    m = int(rng.integers(1, 3))
    unit = np.array(["A", "A", "B", "B"], object)
    held = {h: sum(1 for hh, _ in existing if hh == h) for h in range(hosts)}
    able = [h for h in range(hosts) if held[h] < m
            and any(E[h, k] and (h, k) not in existing for k in range(K))]
    limit = min(total, K * per_type) if per_type is not None else total
    fo = sorted(int(h) for h in rng.permutation(able)[:int(rng.integers(0, 3))])[:limit]
    fc = sorted(h for h in range(hosts) if h not in fo and rng.random() < 0.3)
    forced = {u: sum(1 for h in fo if unit[h] == u) for u in ("A", "B")}
    caps = {u: forced[u] + int(rng.integers(0, 2)) for u in ("A", "B") if rng.random() < 0.6}
    return C, w, E, total, per_type, m, existing, fo, fc, unit, caps


@pytest.mark.parametrize("seed", range(24))
def test_function_centres_rules_match_enumeration(seed):
    C, w, E, total, per_type, m, existing, fo, fc, unit, caps = _fc_instance(seed)
    expect = _fc_oracle(C, w, E, total, per_type, m, existing, (fo, fc, unit, caps))
    plan = function_centres(C, w, E, total=total, per_type=per_type, max_types_per_host=m,
                            existing=existing, force_open=fo, force_closed=fc,
                            max_new_per_unit=caps or None,
                            site_unit=unit if caps else None,
                            solver="cbc" if seed % 2 else "highs")
    if expect is None:
        assert plan.status == "infeasible"
        return
    assert plan.optimal, plan
    assert plan.objective == pytest.approx(expect)
    new = plan.details["placements"].query("status == 'new'")
    assert set(fo) <= set(plan.selected.tolist()) and not set(fc) & set(new["host"])
    for u, cap in caps.items():
        assert sum(1 for h in new["host"] if unit[h] == u) <= cap


def test_forced_host_that_covers_nothing_new_still_gets_a_centre():
    C = np.array([[1, 1], [1, 0]], bool)        # host 1 covers a subset of host 0's rows
    w = np.array([5.0, 3.0])
    E = np.ones((2, 1), bool)
    plan = function_centres(C, w, E, total=2, existing=[(0, 0)], max_types_per_host=1,
                            force_open=[1])
    assert plan.optimal and plan.selected.tolist() == [1]
    assert plan.objective == pytest.approx(8.0)
    assert plan.details["new_centres"] == 1 and plan.details["force_open"] == [1]


@pytest.mark.parametrize("kw,field,words", [
    ({"force_open": [7]}, "force_open", "outside"),
    ({"force_closed": [1], "force_open": [1]}, "force_open", "both"),
    ({"force_open": [2]}, "force_open", "eligible for no kind"),        # E[2] all False
    ({"force_open": [0]}, "force_open", "already holds"),               # (0, 0) exists
    ({"force_open": [1, 3], "total": 1}, "force_open", "limits allow 1"),
    ({"max_new_per_unit": 1}, "max_new_per_unit", "admin unit"),        # no site_unit
    ({"force_open": [1, 3], "max_new_per_unit": {"A": 1},
      "site_unit": ["A", "A", "B", "A"]}, "force_open", "allows 1"),
])
def test_function_centres_bad_rules(kw, field, words):
    C = np.ones((2, 4), bool)
    E = np.array([[1, 1], [1, 1], [0, 0], [1, 0]], bool)
    args = {"total": 3, "existing": [(0, 0)], **kw}
    with pytest.raises(GeoplanInputError) as e:
        function_centres(C, np.ones(2), E, **args)
    assert e.value.field == field and words in str(e.value), str(e.value)


class _Sites:
    """A minimal SiteProblem stand-in for the GIS door's id handling."""

    def __init__(self):
        import geopandas as gpd
        from shapely.geometry import Point
        self.sites = gpd.GeoDataFrame({
            "site_id": ["H1", "H2", "T1", "T2"], "name": ["a", "b", "c", "d"],
            "kind": "candidate", "type": ["hospital", "hospital", "township", "township"],
            "admin_code": ["u1", "u1", "u2", "u2"]},
            geometry=[Point(i, 0) for i in range(4)], crs=32650)
        self.demand = np.array([4.0, 3.0, 2.0, 1.0])
        self.unit = np.array(["u1", "u1", "u2", "u2"], object)
        self.unit_names = {"u1": "one", "u2": "two"}
        self.n_cells = 4
        self.existing = np.array([], np.intp)

    def coverage(self, minutes):
        from scipy import sparse
        return sparse.csr_matrix(np.eye(4, dtype=bool))


def test_function_centres_gis_door_ids_units_and_errors():
    prob = _Sites()
    plan = function_centres_from_problem(prob, 30, types=["dialysis"], total=2,
                                         force_open=["T2"], force_closed=["H1"],
                                         max_new_per_unit=1)
    assert plan.optimal
    assert set(plan.sites["site_id"]) == {"H2", "T2"}          # one per admin unit
    assert plan.details["force_open_ids"] == ["T2"]
    assert plan.details["force_closed_ids"] == ["H1"]
    assert plan.details["max_new_per_unit"] == {"u1": 1, "u2": 1}
    with pytest.raises(GeoplanInputError, match="force_open: no host has id X9"):
        function_centres_from_problem(prob, 30, types=["dialysis"], total=2,
                                      force_open=["X9"])
    with pytest.raises(GeoplanInputError, match="T1 is not of the host types"):
        function_centres_from_problem(prob, 30, types=["dialysis"], total=2,
                                      host_types=["hospital"], force_open=["T1"])


# --------------------------------------------------------------------------- quiet, verbose, log


def test_models_are_quiet_unless_verbose(capfd):
    pop = pd.Series({"A": 1000.0})
    H = pd.DataFrame({"unit": ["A"], "beds": [2], "max_add": [9]})
    beds_to_ratio(pop, H, solver="cbc")
    function_centres(np.ones((2, 2), bool), np.ones(2), np.ones((2, 1), bool), total=1,
                     solver="highs")
    out = capfd.readouterr().out
    assert "CBC" not in out and "HiGHS" not in out
    beds_to_ratio(pop, H, solver="cbc", verbose=True)
    function_centres(np.ones((2, 2), bool), np.ones(2), np.ones((2, 1), bool), total=1,
                     solver="highs", verbose=True)
    out = capfd.readouterr().out
    assert "Welcome to the CBC MILP Solver" in out and "HiGHS" in out


def test_the_geoplan_logger_carries_progress_and_solver_lines(caplog):
    pop = pd.Series({"A": 1000.0})
    H = pd.DataFrame({"unit": ["A"], "beds": [2], "max_add": [9]})
    with caplog.at_level(logging.DEBUG, logger="geoplan"):
        beds_to_ratio(pop, H, solver="cbc")
    names = {(r.name, r.levelname) for r in caplog.records}
    assert ("geoplan.optimize.beds", "INFO") in names
    assert ("geoplan.solver", "DEBUG") in names
    assert any("optimal" in r.getMessage() for r in caplog.records
               if r.name == "geoplan.optimize.beds")


# --------------------------------------------------------------------------- scenario


RULES_SCENARIO = f"""
name = "beds with rules"
region = "{DEMO.as_posix()}"
maps = false
report = false

[[model]]
name = "beds"
kind = "beds_to_ratio"
level = "district_code"
ratio = 7.0
hospital_types = ["tertiary_hospital", "secondary_hospital", "tcm_hospital",
                  "township_health_centre", "rural_regional_centre"]
cost_per_bed = 60.0
max_add_share = 0.5
new_site_types = ["township land"]
new_site_fixed_cost = 8000.0
new_site_min_beds = 100
new_site_max_beds = 500
force_open = ["S0151"]
force_closed = ["S0187", "H003"]
max_new_per_unit = {{ "990103" = 3, "990104" = 2 }}
"""


def test_scenario_with_site_rules_runs_on_the_demo(tmp_path, beds_region):
    from geoplan.scenario.run import run_scenario
    p = tmp_path / "rules.toml"
    p.write_text(RULES_SCENARIO, encoding="utf-8")
    # the region without its road network (beds need none); with another cache key the
    # runner just loads the region itself
    cache = {(DEMO.resolve(), ()): beds_region}
    res = run_scenario(p, output=tmp_path / "out", region_cache=cache)
    plan = res.plans["beds"]
    assert plan.optimal and plan.by_unit["met"].all()
    sites = pd.read_csv(tmp_path / "out" / "plan_beds_sites.csv", encoding="utf-8-sig")
    ids = set(sites["site_id"])
    assert "S0151" in ids and "S0187" not in ids and "H003" not in ids
    assert plan.details["max_new_per_unit"] == {"990103": 3, "990104": 2}


def test_run_model_passes_the_rules_to_function_centres():
    from geoplan.scenario.models import _problem_key, run_model
    from geoplan.scenario.spec import check_model
    m = check_model({"name": "fc", "kind": "function_centres", "centre_types": ["dialysis"],
                     "host_types": ["hospital", "township"], "mode": "drive", "minutes": 30,
                     "total": 2, "force_open": ["T2"], "force_closed": ["H1"],
                     "max_new_per_unit": {"u1": 1}, "solver": "highs"})
    problems = {(_problem_key(m), 1000.0): _Sites()}         # no region needed
    plan, tables = run_model(None, m, problems=problems)
    assert plan.optimal and set(tables["sites"]["site_id"]) == {"H2", "T2"}
    assert plan.details["force_open_ids"] == ["T2"]
    assert plan.details["max_new_per_unit"] == {"u1": 1}


def test_a_front_door_without_an_option_is_reported_not_crashed():
    from geoplan.scenario.models import _check_door

    def door(problem, p, *, solver=None):  # noqa: ARG001 - a stand-in front door
        return None

    _check_door(door, {"solver": "cbc"}, "p_median")
    with pytest.raises(GeoplanInputError, match="does not take 'force_open'") as e:
        _check_door(door, {"solver": "cbc", "force_open": ["S1"]}, "p_median")
    assert e.value.field == "force_open"

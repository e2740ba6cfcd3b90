"""Every scenario option is applied or rejected: changing it changes what the model is given.

Each ``[[model]]`` key of every kind gets a variant value; the model runs through
:func:`geoplan.scenario.models.run_model` on the demo region with the travel-time build
and the model's front door replaced by recorders, so the test sees exactly what reaches
them (the models themselves are checked against brute force in ``tests/optimize``). A
variant that records the same call as the base table is an option silently ignored.

Keys whose effect is on pages, files or the run rather than on a model call are listed
in :data:`ELSEWHERE` with the test that shows it; :func:`test_every_key_is_checked`
fails when a key is added to the scenario registry without either.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import DEMO

from geoplan.inputs.region import load_region
from geoplan.optimize.gis import SiteProblem
from geoplan.scenario import models
from geoplan.scenario.spec import (
    COVERAGE_KEYS,
    INPUT_KEYS,
    MODEL_KEYS,
    TIER_KEYS,
    TOP_KEYS,
    TRAVEL_KEYS,
    read_scenario,
)

TESTS = Path(__file__).resolve().parents[1]

_CAND = '["community building", "village committee", "township land"]'
_SITES = f'existing_types = ["insurance_service_point"]\ncandidate_types = {_CAND}\n' \
         'mode = "ebike"\nminutes = 15\n'
_HOSP = '["tertiary_hospital", "secondary_hospital", "tcm_hospital", ' \
        '"township_health_centre", "rural_regional_centre"]'
BASE = {
    "set_covering": _SITES + "target_share = 0.9\n",
    "max_covering": _SITES + "p = 3\n",
    "tradeoff": _SITES + "p_max = 3\n",
    "p_median": _SITES + "p = 3\n",
    "p_center": _SITES + "p = 3\n",
    "function_centres": 'centre_types = ["endoscopy", "dialysis"]\n'
                        f'host_types = {_HOSP}\nmode = "drive"\nminutes = 30\ntotal = 4\n',
    "beds_to_ratio": f'hospital_types = {_HOSP}\nratio = 7.0\ncost_per_bed = 60.0\n'
                     'level = "district_code"\n',
    "tiered": "",                        # its [[model.tiers]] follow (TIERS)
}

#: A tiered model's tiers: a hub, and points held to urban/rural standards (the second
#: tier takes the tier-key variants).
TIERS = [
    'name = "hub"\ncount = 1\nmode = "drive"\nminutes = 30\n'
    'upgrade_types = ["tertiary_hospital"]\n',
    'name = "point"\ncount = 2\nmode = "walk"\nurban_minutes = 12\n'
    'rural_minutes = 20\nreferral_minutes = 20\nexisting_types = ["insurance_service_point"]'
    f'\ncandidate_types = {_CAND}\nmin_share = 0.5\n',
]
#: tier key -> the TOML lines of a variant of the second tier (``key = DROP`` removes it).
TIER_VARIANTS = {
    "name": 'name = "station"',
    "count": "count = 3",
    "count_min": "count = DROP\ncount_min = 1\ncount_max = 3",
    "count_max": "count = DROP\ncount_min = 0\ncount_max = 2",
    "mode": 'mode = "ebike"',
    "minutes": "minutes = 10\nurban_minutes = DROP\nrural_minutes = DROP",
    "urban_minutes": "urban_minutes = 10",
    "rural_minutes": "rural_minutes = 25",
    "existing_types": 'existing_types = ["community_health_station"]',
    "upgrade_types": 'upgrade_types = ["village_clinic"]',
    "candidate_types": 'candidate_types = ["township land"]',
    "upgrade_cost": 'upgrade_types = ["township_health_centre"]\nupgrade_cost = 5',
    "new_site_cost": "new_site_cost = 7",
    "referral_minutes": "referral_minutes = 25",
    "weight": "weight = 2",
    "min_share": "min_share = 0.6",
}
#: Tier variants compared with another base than TIERS' own.
TIER_PAIRED = {"minutes": "minutes = 15\nurban_minutes = DROP\nrural_minutes = DROP",
               "count_min": "count = DROP\ncount_min = 0\ncount_max = 3",
               "count_max": "count = DROP\ncount_min = 0\ncount_max = 3",
               "upgrade_cost": 'upgrade_types = ["township_health_centre"]'}

#: key -> the TOML line of a variant (kind-specific where the kinds differ).
VARIANTS: dict[str, str | dict[str, str]] = {
    "solver": 'solver = "highs"',
    "time_limit": "time_limit = 7",
    "gap": "gap = 0.05",
    "verbose": "verbose = true",
    "level": {"beds_to_ratio": 'level = "admin_code"', "": 'level = "district_code"'},
    "force_open": {"beds_to_ratio": 'force_open = ["H003"]', "function_centres":
                   'force_open = ["H003"]', "": 'force_open = ["S0001"]'},
    "force_closed": {"beds_to_ratio": 'force_closed = ["H003"]', "function_centres":
                     'force_closed = ["H003"]', "": 'force_closed = ["S0001"]'},
    "max_new_per_unit": "max_new_per_unit = 1",
    "existing_types": 'existing_types = ["township_health_centre"]',
    "candidate_types": 'candidate_types = ["township land"]',
    "upgrade_types": 'upgrade_types = ["township_health_centre"]',
    "mode": 'mode = "walk"',
    "minutes": "minutes = 20",
    "demand_levels": 'demand_levels = ["town"]',
    "target_share": {"p_center": "p = DROP\nurban_minutes = 12\nrural_minutes = 20\n"
                                 "target_share = 0.9", "": "target_share = 0.8"},
    "unit_min_share": "unit_min_share = 0.5",
    "p": "p = 4",
    "p_max": "p_max = 4",
    "urban_minutes": "urban_minutes = 12\nrural_minutes = 20",
    "rural_minutes": "urban_minutes = 12\nrural_minutes = 25",
    "centre_types": 'centre_types = ["endoscopy", "rehabilitation_pain"]',
    "host_types": 'host_types = ["tertiary_hospital", "secondary_hospital"]',
    "total": "total = 5",
    "per_type": "per_type = 2",
    "max_types_per_host": "max_types_per_host = 2",
    "min_share": "min_share = 0.5",
    "ratio": "ratio = 8.0",
    "hospital_types": 'hospital_types = ["tertiary_hospital", "secondary_hospital"]',
    "cost_per_bed": "cost_per_bed = 50.0",
    "max_add_share": "max_add_share = 0.5",
    "max_add": "max_add = 200",
    "new_site_types": 'new_site_types = ["township land"]\nnew_site_fixed_cost = 8000.0\n'
                      "new_site_max_beds = 500",
    "new_site_fixed_cost": 'new_site_types = ["township land"]\nnew_site_fixed_cost = 9000.0'
                           "\nnew_site_max_beds = 500",
    "new_site_min_beds": 'new_site_types = ["township land"]\nnew_site_fixed_cost = 8000.0\n'
                         "new_site_min_beds = 100\nnew_site_max_beds = 500",
    "new_site_max_beds": 'new_site_types = ["township land"]\nnew_site_fixed_cost = 8000.0\n'
                         "new_site_max_beds = 400",
    "capacity": "capacity = true",
    "demand": 'demand = "age65"',
    "zones": "ZBASE",
    "zone_centre": "ZBASE_C",
    "zone_radius_km": "ZBASE\nzone_radius_km = 8",
    "zone_sectors": "ZBASE\nzone_sectors = 3",
    "zone_min_sites": "ZBASE_2",
    "zone_max_sites": "ZBASE\nzone_max_sites = 2",
    "zone_min_share": "ZBASE\nzone_min_share = 0.5",
    "fairness": 'fairness = "max_min"',
    "persons_per_bed": "capacity = true\npersons_per_bed = 100",
    "new_site_capacity": "capacity = true\nnew_site_capacity = 5000",
    "single_source": "capacity = true\nsingle_source = true",
    "objective": 'objective = "cost"',
    "referral_mode": 'referral_mode = "ebike"',
    "budget": {"tiered": "budget = 5000", "": "budget = 100"},
    "urban_levels": {"tiered": 'urban_levels = ["town"]',
                     "": 'urban_minutes = 12\nrural_minutes = 20\nurban_levels = ["town"]'},
}
#: Variants that only make sense next to another key (compared with that base instead;
#: ``key = DROP`` removes a key of the base table).
PAIRED_BASE = {
    "zone_centre": "ZBASE",
    "zone_radius_km": "ZBASE",
    "zone_sectors": "ZBASE",
    "zone_min_sites": "ZBASE",
    "zone_max_sites": "ZBASE",
    "zone_min_share": "ZBASE",
    "persons_per_bed": "capacity = true",
    "new_site_capacity": "capacity = true",
    "single_source": "capacity = true",
    ("p_center", "target_share"): "p = DROP\nurban_minutes = 12\nrural_minutes = 20",
    "rural_minutes": "urban_minutes = 12\nrural_minutes = 20",
    "urban_levels": "urban_minutes = 12\nrural_minutes = 20",
    ("tiered", "urban_levels"): "",
    "new_site_fixed_cost": 'new_site_types = ["township land"]\nnew_site_fixed_cost = 8000.0'
                           "\nnew_site_max_beds = 500",
    "new_site_min_beds": 'new_site_types = ["township land"]\nnew_site_fixed_cost = 8000.0\n'
                         "new_site_max_beds = 500",
    "new_site_max_beds": 'new_site_types = ["township land"]\nnew_site_fixed_cost = 8000.0\n'
                         "new_site_max_beds = 500",
}

#: Keys whose effect is not on the model call, and the test that shows it.
HERE, RUNS = "scenario/test_scenario_options.py::", "scenario/test_scenario_run.py::"
ELSEWHERE = {
    # [[model]] labels: output file names, page titles, summary.json
    "name": RUNS + "test_run_writes_tables_summary_and_log",
    "name_zh": "test_labels.py::test_chinese_report_page_has_no_english",
    "kind": "test_bad_inputs.py::test_bad_input_is_refused_clearly",
    "description": HERE + "test_model_description_reaches_the_summary",
    # scenario top level
    "region": "test_bad_inputs.py::test_bad_input_is_refused_clearly",
    "output": HERE + "test_output_over_a_regular_file_is_refused",
    "language": "test_labels.py::test_chinese_report_page_has_no_english",
    "description_zh": "test_labels.py::test_chinese_report_page_has_no_english",
    "maps": RUNS + "test_a_run_with_maps_and_report_draws_what_it_computed",
    "report": RUNS + "test_a_run_with_maps_and_report_draws_what_it_computed",
    "pdf": "maps/test_export.py::test_a_scenario_prints_its_report_and_refuses_pdf_without_one",
    "basemap": HERE + "test_basemap_reaches_every_map_and_a_bad_one_is_refused",
    "inputs": HERE + "test_inputs_override_the_region_layers",
    "travel": RUNS + "test_travel_profiles_of_a_scenario_are_applied",
    "coverage": RUNS + "test_run_writes_tables_summary_and_log",
    "model": RUNS + "test_run_writes_tables_summary_and_log",
    # [inputs]
    "facilities": HERE + "test_inputs_override_the_region_layers",
    "candidates": HERE + "test_every_input_layer_replaces_the_regions",
    "population": HERE + "test_every_input_layer_replaces_the_regions",
    "boundaries": HERE + "test_every_input_layer_replaces_the_regions",
    "network": HERE + "test_every_input_layer_replaces_the_regions",
    "facilities_crs": HERE + "test_every_input_layer_replaces_the_regions",
    "candidates_crs": HERE + "test_every_input_layer_replaces_the_regions",
    # [travel]
    "max_snap_m": HERE + "test_max_snap_m_is_applied",
    "profiles": RUNS + "test_travel_profiles_of_a_scenario_are_applied",
    # [[coverage]]
    "types": RUNS + "test_run_writes_tables_summary_and_log",
    "modes": RUNS + "test_run_writes_tables_summary_and_log",
    "gaps": HERE + "test_coverage_gaps_option_is_applied",
    # a tiered model's [[model.tiers]]: each tier key is varied by its own test
    "tiers": HERE + "test_changing_a_tier_key_changes_the_model_call",
}


def _variant(key: str, kind: str) -> str | None:
    v = VARIANTS.get(key)
    if isinstance(v, dict):
        return v.get(kind, v.get(""))
    return v


#: A balanced model's zone lines (sector zones around the demo city's centre).
ZBASE = 'zones = "sectors"\nzone_centre = [114.305, 30.062]\nzone_min_sites = 1'
_ZONE_LINES = {"ZBASE_C": ZBASE.replace("114.305, 30.062", "114.33, 30.05"),
               "ZBASE_2": ZBASE.replace("zone_min_sites = 1", "zone_min_sites = 2"),
               "ZBASE": ZBASE}


def _merged(base: str, extra: str) -> str:
    """``base`` lines with ``extra``'s keys replaced (``key = DROP`` removes a key)."""
    keys = {ln.split("=")[0].strip() for ln in extra.splitlines() if "=" in ln}
    kept = "".join(ln + "\n" for ln in base.splitlines()
                   if ln.split("=")[0].strip() not in keys)
    return kept + "".join(ln + "\n" for ln in extra.splitlines() if not ln.endswith("= DROP"))


def _table(kind: str, extra: str = "", tier_extra: str = "") -> str:
    for k, v in _ZONE_LINES.items():
        extra = extra.replace(k, v)
    text = f'[[model]]\nname = "m"\nkind = "{kind}"\n{_merged(BASE[kind], extra)}\n'
    if kind == "tiered":
        tiers = [TIERS[0], _merged(TIERS[1], tier_extra)]
        text += "".join(f"[[model.tiers]]\n{t}\n" for t in tiers)
    return text


@pytest.fixture(scope="module")
def region():
    return load_region(DEMO, layers=("boundaries", "facilities", "candidates", "population"))


def _spec(tmp_path: Path, kind: str, extra: str, tier_extra: str = ""):
    p = tmp_path / f"s{abs(hash((extra, tier_extra))) % 10**8}.toml"
    p.write_text(f'name = "o"\nregion = "{DEMO.as_posix()}"\nmaps = false\nreport = false\n'
                 + _table(kind, extra, tier_extra), encoding="utf-8")
    return read_scenario(p).models[0]


class _Stop(Exception):
    pass


def _tiny_problem(region, m, mode=None, minutes=None) -> SiteProblem:
    """A 3-cell, 4-site problem whose units and sites come from the demo's boundaries."""
    import scipy.sparse as sp
    b = region.boundaries
    codes = b["admin_code"].to_numpy(object)[[0, 4, 8]]
    sites = region.candidates.iloc[:4].rename(columns={"id": "site_id"}).copy()
    sites["kind"] = "candidate"
    return SiteProblem(times=sp.csr_matrix(np.full((3, 4), 60.0)), demand=np.ones(3),
                       unit=codes, cells=region.population.iloc[:3].assign(admin_code=codes),
                       sites=sites, existing=np.arange(0), mode=mode or m.mode,
                       cutoff_s=float(minutes or m.minutes) * 60, unit_names=None)


def _record(region, m, monkeypatch) -> dict[str, Any]:
    """What reaches the travel build and the model's front door for table ``m``."""
    from importlib import import_module

    import scipy.sparse as sp

    # by module path: geoplan.optimize re-exports functions under some module names
    (beds, center, covering, fc, gis, median, tradeoff, capacity, balanced, tiered,
     bmedian) = (import_module(f"geoplan.optimize.{n}") for n in
                 ("beds", "center", "covering", "function_centres", "gis", "median",
                  "tradeoff", "capacity", "balanced", "tiered", "balanced_median"))
    seen: dict[str, Any] = {"build": []}

    def build(population, candidates, network, mode, minutes, **kw):
        seen["build"].append((len(population), round(float(population["population"].sum()), 3),
                              tuple(candidates["id"]) if candidates is not None
                              else (), str(mode), minutes,
                              tuple(kw["existing"]["id"]) if kw.get("existing") is not None
                              else ()))
        problem = _tiny_problem(region, m, str(mode), minutes)
        if m.kind == "tiered":          # its sites: one facility of each type, two candidates
            import geopandas as gpd
            import pandas as pd
            parts = [kw["existing"].groupby("type").head(1).assign(kind="existing"),
                     candidates.head(2).assign(kind="candidate")]
            sites = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True)).rename(
                columns={"id": "site_id"})
            problem.sites = sites[["site_id", "kind", "type", "cost", "geometry"]]
        return problem

    def between(sites, network, mode, minutes, **kw):
        seen["between"] = (len(sites), str(mode), minutes)
        return sp.csr_matrix((len(sites), len(sites)))

    def door(name):
        def call(*args, **kw):
            problem = next((a for a in args if isinstance(a, SiteProblem)), None)
            if problem is None and args and isinstance(args[0], list):   # one per tier
                problem = args[0][0]
                kw = {**kw, "problems": [(p.mode, p.cutoff_s) for p in args[0]]}
            seen["door"] = (name, repr(args[1:]), repr(sorted(kw.items())),
                            None if problem is None else tuple(problem.unit))
            raise _Stop
        return call
    monkeypatch.setattr(gis, "build_problem", build)
    monkeypatch.setattr(gis, "between_sites", between)
    monkeypatch.setattr(tiered, "tiered_plan_from_problems", door("tiered_plan_from_problems"))
    for mod, attr in ((covering, "set_covering_from_problem"),
                      (covering, "max_covering_from_problem"),
                      (tradeoff, "tradeoff_curve_from_problem"),
                      (median, "p_median_from_problem"), (center, "p_center_from_problem"),
                      (fc, "function_centres_from_problem"),
                      (beds, "beds_to_ratio_from_region"),
                      (capacity, "capacitated_set_covering_from_problem"),
                      (capacity, "capacitated_max_covering_from_problem"),
                      (capacity, "capacitated_p_median_from_problem"),
                      (balanced, "balanced_covering_from_problem"),
                      (bmedian, "balanced_p_median_from_problem")):
        monkeypatch.setattr(mod, attr, door(attr))
    try:
        models.run_model(region, m)
    except _Stop:
        pass
    return seen


CASES = [(kind, key) for kind, keys in MODEL_KEYS.items() for key in keys
         if key not in ELSEWHERE]


@pytest.mark.parametrize("kind, key", CASES, ids=[f"{k}-{key}" for k, key in CASES])
def test_changing_a_model_key_changes_the_model_call(kind, key, region, tmp_path,
                                                     monkeypatch):
    variant = _variant(key, kind)
    assert variant is not None, f"no variant for '{key}' of '{kind}': add one to VARIANTS"
    paired = PAIRED_BASE.get((kind, key), PAIRED_BASE.get(key, ""))
    base = _record(region, _spec(tmp_path, kind, paired), monkeypatch)
    changed = _record(region, _spec(tmp_path, kind, variant), monkeypatch)
    assert "door" in base and "door" in changed
    assert changed != base, f"'{key}' of a {kind} model changed nothing the model is given"


TIER_CASES = sorted(TIER_KEYS)


@pytest.mark.parametrize("key", TIER_CASES)
def test_changing_a_tier_key_changes_the_model_call(key, region, tmp_path, monkeypatch):
    """Each key of a [[model.tiers]] table reaches the tiered plan's front door (name_zh:
    the pages, the shipped tiered scenario's Chinese report)."""
    if key == "name_zh":
        m = _spec(tmp_path, "tiered", "", 'name_zh = "哨点"')
        assert m.tiers[1].label("zh") == "哨点"
        return
    variant = TIER_VARIANTS.get(key)
    assert variant is not None, f"no variant for tier key '{key}': add one to TIER_VARIANTS"
    base = _record(region, _spec(tmp_path, "tiered", "", TIER_PAIRED.get(key, "")),
                   monkeypatch)
    changed = _record(region, _spec(tmp_path, "tiered", "", variant), monkeypatch)
    assert "door" in base and "door" in changed
    assert changed != base, f"tier key '{key}' changed nothing the model is given"


_RUN = f"""
name = "opts"
region = "{DEMO.as_posix()}"
maps = false
report = false
[[coverage]]
name = "insurance"
types = ["insurance_service_point"]
modes = ["ebike"]
minutes = [15]
"""


@pytest.fixture(scope="module")
def cache():
    return {}


def _run(tmp_path: Path, name: str, text: str, cache):
    from geoplan.scenario.run import run_scenario
    p = tmp_path / f"{name}.toml"
    p.write_text(text, encoding="utf-8")
    return run_scenario(p, output=tmp_path / name, region_cache=cache)


def _share(res) -> float:
    return res.summary["coverage"][0]["modes"]["ebike"]["share_15min"]


def test_model_description_reaches_the_summary(tmp_path, cache):
    text = _RUN + ('[[model]]\nname = "m"\nkind = "max_covering"\n'
                   'description = "three points near the gaps"\n' + BASE["max_covering"])
    res = _run(tmp_path, "desc", text, cache)
    assert res.summary["models"][0]["description"] == "three points near the gaps"


def test_max_snap_m_is_applied(tmp_path, cache):
    """A 50 m snapping limit leaves more cells off the network than the default 1,000 m,
    so fewer people are covered."""
    base = _share(_run(tmp_path, "snap_default", _RUN, cache))
    near = _share(_run(tmp_path, "snap_50",
                       _RUN + "[travel]\nmax_snap_m = 50\n", cache))
    assert near < base - 0.01


def test_coverage_gaps_option_is_applied(tmp_path, cache):
    with_gaps = _run(tmp_path, "gaps", _RUN, cache)
    without = _run(tmp_path, "nogaps", _RUN.replace("minutes = [15]\n",
                                                    "minutes = [15]\ngaps = false\n"), cache)
    assert "gaps_insurance_ebike" in with_gaps.tables or any(
        k.startswith("gaps_") for k in with_gaps.tables)
    assert not any(k.startswith("gaps_") for k in without.tables)
    assert _share(with_gaps) == _share(without)


def test_inputs_override_the_region_layers(tmp_path, cache):
    """[inputs] facilities replaces the region's facilities: a file with half the
    insurance points covers fewer people (its CRS option is read the same way)."""
    import pandas as pd
    fac = pd.read_csv(DEMO / "facilities.csv", encoding="utf-8-sig")
    ins = fac[fac["type"].astype(str).str.contains("insurance|医保", regex=True)]
    keep = pd.concat([fac.drop(ins.index), ins.iloc[::2]])
    keep.to_csv(tmp_path / "half.csv", index=False, encoding="utf-8")
    base = _share(_run(tmp_path, "inputs_default", _RUN, cache))
    text = _RUN + '[inputs]\nfacilities = "half.csv"\nfacilities_crs = "gcj02"\n'
    half = _share(_run(tmp_path, "inputs_half", text, cache))
    assert half < base - 0.01
    wgs = _share(_run(tmp_path, "inputs_wgs", text.replace('"gcj02"', '"wgs84"'), cache))
    assert wgs != half                       # the CRS option moves every point ~500 m


def test_every_input_layer_replaces_the_regions(tmp_path):
    """[inputs] facilities, candidates, population, boundaries and network each replace
    the region's layer (files changed so each layer differs: fewer rows, doubled people,
    renamed units, fewer roads), and facilities_crs / candidates_crs are applied."""
    import bz2

    import pandas as pd
    import rasterio

    from geoplan.scenario.run import _region
    fac = pd.read_csv(DEMO / "facilities.csv", encoding="utf-8-sig")
    fac.iloc[::2].to_csv(tmp_path / "fac.csv", index=False, encoding="utf-8")
    cand = pd.read_csv(DEMO / "candidates.csv", encoding="utf-8-sig")
    cand.iloc[:100].to_csv(tmp_path / "cand.csv", index=False, encoding="utf-8")
    with rasterio.open(DEMO / "population.tif") as src:
        prof, band = src.profile, src.read(1)
    with rasterio.open(tmp_path / "pop.tif", "w", **prof) as dst:
        dst.write(np.where(band == prof.get("nodata"), band, band * 2), 1)
    geo = (DEMO / "boundaries.geojson").read_text(encoding="utf-8")
    (tmp_path / "b.geojson").write_text(geo.replace("城北街道", "城北新区"), encoding="utf-8")
    osm = bz2.decompress((DEMO / "roads.osm.bz2").read_bytes()).decode("utf-8")
    fewer = re.sub(r"<way\b(?:(?!</way>).)*?v=\"residential\"(?:(?!</way>).)*?</way>", "",
                   osm, flags=re.S)
    assert len(fewer) < len(osm)
    (tmp_path / "roads.osm").write_text(fewer, encoding="utf-8")
    base_sc = read_scenario(_write(tmp_path, "base.toml", _RUN))
    over = _RUN + ('[inputs]\nfacilities = "fac.csv"\nfacilities_crs = "wgs84"\n'
                   'candidates = "cand.csv"\ncandidates_crs = "wgs84"\n'
                   'population = "pop.tif"\nboundaries = "b.geojson"\n'
                   'network = "roads.osm"\n')
    base, new = _region(base_sc, None), _region(read_scenario(
        _write(tmp_path, "over.toml", over)), None)
    assert len(new.facilities) < len(base.facilities)
    assert len(new.candidates) == 100 < len(base.candidates)
    assert new.population["population"].sum() == pytest.approx(
        2 * base.population["population"].sum(), rel=1e-6)
    assert "城北新区" in set(new.boundaries["admin_name"])
    assert new.network.number_of_edges() < base.network.number_of_edges()
    # the CRS options: wgs84 read as given, the region's default (gcj02) shifted ~500 m
    f0 = base.facilities.set_index("id").geometry
    f1 = new.facilities.set_index("id").geometry
    shift = f0.loc[f1.index].distance(f1)
    assert shift.min() > 100


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_basemap_reaches_every_map_and_a_bad_one_is_refused(tmp_path, cache):
    """basemap = "roads": the maps draw the region's own roads, no tiles to load; the
    default (OSM) loads tiles and falls back to those roads; an unknown one is refused at
    load with its line."""
    from geoplan import GeoplanInputError

    maps_on = _RUN.replace("maps = false", "maps = true")
    _run(tmp_path, "roads", maps_on.replace('report = false\n',
                                            'report = false\nbasemap = "roads"\n'), cache)
    page = (tmp_path / "roads" / "map_insurance_ebike.html").read_text(encoding="utf-8")
    assert "geoplan_roads_" in page and "tile.openstreetmap.org" not in page
    _run(tmp_path, "tiles", maps_on, cache)
    page = (tmp_path / "tiles" / "map_insurance_ebike.html").read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in page and 't.on("tileerror"' in page
    assert "geoplan_roads_" in page
    bad = tmp_path / "bad.toml"
    bad.write_text(maps_on.replace('report = false\n', 'report = false\nbasemap = "bing"\n'),
                   encoding="utf-8")
    with pytest.raises(GeoplanInputError, match="basemap") as e:
        read_scenario(bad)
    assert "line 6 (basemap)" in str(e.value) and "roads" in str(e.value)


def test_output_over_a_regular_file_is_refused(tmp_path, capsys):
    from geoplan.cli.main import main
    (tmp_path / "taken").write_text("not a folder", encoding="utf-8")
    p = tmp_path / "s.toml"
    p.write_text(_RUN.replace('report = false\n', 'report = false\noutput = "taken"\n'),
                 encoding="utf-8")
    code = main(["run", str(p)])
    assert code == 2 and "taken" in capsys.readouterr().err
    assert (tmp_path / "taken").read_text(encoding="utf-8") == "not a folder"


def test_options_a_model_cannot_use_are_refused(tmp_path):
    """Keys that would be silently ignored are errors naming the file, line and key."""
    from geoplan import GeoplanInputError
    for kind, extra, word in (
            ("p_center", "target_share = 0.9", "target_share"),
            ("function_centres", 'existing_types = ["insurance_service_point"]',
             "existing_types"),
            ("function_centres", 'candidate_types = ["township land"]', "candidate_types"),
            ("max_covering", 'cost_column = "fixed_cost_wan"', "[candidates] cost"),
            ("p_median", "single_source = true", "single_source"),
            ("max_covering", "new_site_capacity = 5000", "new_site_capacity"),
            ("set_covering", "persons_per_bed = 100", "persons_per_bed"),
            ("set_covering", "capacity = true\nunit_min_share = 0.5", "unit_min_share"),
            ("max_covering", "zone_min_sites = 1", "zone_min_sites"),
            ("max_covering", 'zones = "sectors"', "zone rule"),
            ("max_covering", 'zones = "sectors"\nzone_min_sites = 1', "zone_centre"),
            ("max_covering", "zone_radius_km = 3", "zone_radius_km"),
            ("max_covering", 'zones = "units"\nzone_min_sites = 1', "zone_min_sites"),
            ("max_covering", ZBASE + "\ncapacity = true", "capacity")):
        with pytest.raises(GeoplanInputError, match=re.escape(word)) as e:
            _spec(tmp_path, kind, extra)
        assert e.value.hint and "line" in str(e.value), str(e.value)


def test_an_unknown_demand_layer_is_refused_at_load(tmp_path):
    from geoplan import GeoplanInputError
    with pytest.raises(GeoplanInputError, match="unknown demand layer 'age80'") as e:
        _spec(tmp_path, "max_covering", 'demand = "age80"')
    assert "age65" in e.value.hint and "line" in str(e.value)


def test_every_key_is_checked():
    """Every key of the scenario registry is tested here or in a named test that exists."""
    keys = set(TOP_KEYS) | set(INPUT_KEYS) | set(TRAVEL_KEYS) | set(COVERAGE_KEYS)
    for kind_keys in MODEL_KEYS.values():
        keys |= set(kind_keys)
    missing = []
    for key in sorted(keys):
        if key in ELSEWHERE:
            path, name = ELSEWHERE[key].split("::")
            text = (TESTS / path).read_text(encoding="utf-8")
            if not re.search(rf"^def {name}\(", text, re.M):
                missing.append(f"{key}: {ELSEWHERE[key]} does not exist")
        elif not any(key == k for _, k in CASES):
            missing.append(f"{key}: neither varied here nor listed in ELSEWHERE")
    assert not missing, "\n".join(missing)


def test_p_above_the_sites_a_model_can_choose_is_refused_at_load(tmp_path):
    """p counts the candidates of candidate_types plus the facilities of upgrade_types,
    the sites the model takes (the demo has 8 township health centres)."""
    from geoplan import GeoplanInputError
    only_upgrades = ('candidate_types = DROP\nupgrade_types = ["township_health_centre"]\n')
    assert _spec(tmp_path, "p_median", only_upgrades + "p = 8").p == 8
    with pytest.raises(GeoplanInputError, match="only 8 candidate site") as e:
        _spec(tmp_path, "p_median", only_upgrades + "p = 9")
    assert "line" in str(e.value)


def test_a_weighted_sum_of_demand_layers_is_the_models_demand(region, tmp_path, monkeypatch):
    """demand = { total = 1, age65 = 2 }: each cell's demand is its people plus twice its
    residents aged 65+ (a centre that serves the elderly more), exactly, cell by cell;
    the pages name the sum; bad weights and unknown layers are refused with their line."""
    from geoplan import GeoplanInputError
    m = _spec(tmp_path, "max_covering", "demand = { total = 1, age65 = 2 }")
    cells = models._demand(region, m)
    pop = region.population.set_index("cell_id").loc[cells["cell_id"]]
    want = pop["population"].to_numpy() + 2 * pop["demand_age65"].to_numpy()
    assert np.allclose(cells["population"].to_numpy(), want)
    assert (want > 0).sum() == len(cells)
    label = models.demand_label(region, models.demand_terms(m))
    assert label["name"] == "1 × all residents + 2 × residents aged 65 and over"
    assert label["name_zh"] == "全体居民×1 + 65岁及以上居民×2"
    # one layer with weight 1 is that layer, as demand = "age65" says it
    one = _spec(tmp_path, "max_covering", "demand = { age65 = 1 }")
    assert models.demand_label(region, models.demand_terms(one))["key"] == "age65"
    # the weighted demand reaches the model (not the plain population)
    base = _record(region, _spec(tmp_path, "max_covering", 'demand = "age65"'), monkeypatch)
    summed = _record(region, m, monkeypatch)
    assert base["build"][0][1] < summed["build"][0][1]
    assert summed["build"][0][1] == pytest.approx(float(want.sum()), rel=1e-6)
    for extra, word in (("demand = { age65 = -1 }", "weight that is not a number"),
                        ("demand = { total = 0, age65 = 0 }", "every layer weight 0"),
                        ("demand = { age80 = 1 }", "unknown demand layer 'age80'"),
                        ('demand = { age65 = "2" }', "a layer name in quotes, or a table")):
        with pytest.raises(GeoplanInputError, match=re.escape(word)) as e:
            _spec(tmp_path, "max_covering", extra)
        assert "line" in str(e.value), str(e.value)

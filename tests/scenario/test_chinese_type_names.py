"""A scenario written only in Chinese type labels and map-service POI categories runs end to end.

Planners copy type names from their lists: Chinese labels (院前急救站) and the category
strings Gaode and Baidu export (医疗保健服务;急救中心;急救中心, typecode 090102). The
demo region is rewritten with such type values in its facilities file, and a scenario
naming its types only that way must give the same figures as the demo run with codes.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import DEMO

from geoplan import GeoplanInputError
from geoplan.scenario.run import run_scenario

#: Demo type labels -> what a planner's Gaode/Baidu export says for them
AS_EXPORTED = {"三级医院": "医疗保健服务;综合医院;三级甲等医院",
               "乡镇卫生院": "090102",
               "院前急救站": "医疗保健服务;急救中心;急救中心",
               "社区卫生服务中心": "医疗;社区卫生服务中心"}

SCENARIO = """
name = "急救与卫生院"
region = "{region}"
maps = false
report = false
[[coverage]]
name = "emergency"
types = [{emergency}]
modes = ["drive"]
minutes = [12, 20]
[[coverage]]
name = "health_centres"
types = [{centres}]
modes = ["drive"]
minutes = [15]
[[model]]
name = "stations_2"
kind = "max_covering"
existing_types = [{emergency}]
candidate_types = ["community building", "village committee", "township land"]
mode = "drive"
minutes = 12
p = 2
"""


@pytest.fixture(scope="module")
def exported_region(tmp_path_factory):
    """The demo region with its facilities' types as exported from Gaode/Baidu."""
    d = tmp_path_factory.mktemp("exported")
    fac = pd.read_csv(DEMO / "facilities.csv", encoding="utf-8-sig", dtype=str)
    fac["type"] = fac["type"].replace(AS_EXPORTED)
    assert fac["type"].isin(AS_EXPORTED.values()).sum() == 2 + 8 + 6 + 12
    fac.to_csv(d / "facilities.csv", index=False, encoding="utf-8")
    manifest = (DEMO / "region.toml").read_text("utf-8")
    for name in ("boundaries.geojson", "population.tif", "population_65plus.tif",
                 "candidates.csv", "roads.osm.bz2"):
        manifest = manifest.replace(f'"{name}"', f'"{(DEMO / name).as_posix()}"')
    (d / "region.toml").write_text(manifest, "utf-8")
    return d


def _figures(path):
    s = json.loads(path.read_text("utf-8"))
    return {k: v for k, v in s.items() if k not in ("region", "scenario_file")}


def test_labels_and_poi_strings_give_the_figures_of_codes(exported_region, tmp_path):
    names = tmp_path / "names.toml"
    names.write_text(SCENARIO.format(
        region=exported_region.as_posix(),
        emergency='"院前急救站", "医疗;急救中心"',
        centres='"医疗保健服务;综合医院;卫生院", "社区卫生服务中心"'), "utf-8")
    codes = tmp_path / "codes.toml"
    codes.write_text(SCENARIO.format(
        region=DEMO.as_posix(), emergency='"emergency_station"',
        centres='"township_health_centre", "community_health_centre"'), "utf-8")
    by_name = run_scenario(names, output=tmp_path / "names")
    by_code = run_scenario(codes, output=tmp_path / "codes")
    a, b = _figures(tmp_path / "names" / "summary.json"), _figures(tmp_path / "codes" / "summary.json")
    assert a == b
    plan = by_name.plans["stations_2"]
    assert plan.optimal and plan.objective == pytest.approx(by_code.plans["stations_2"].objective)
    cov = by_name.tables["coverage_health_centres"]
    assert cov["population"].iloc[-1] == pytest.approx(1_021_972, rel=1e-6)


def test_an_unplannable_poi_category_is_refused_at_load_with_the_reason(exported_region,
                                                                          tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text(SCENARIO.format(region=exported_region.as_posix(),
                                 emergency='"医疗保健服务;综合医院;综合医院"',
                                 centres='"卫生院"'), "utf-8")
    with pytest.raises(GeoplanInputError) as e:
        run_scenario(p, output=tmp_path / "out")
    msg = str(e.value)
    assert "bad.toml" in msg and "综合医院" in msg and "grade" in msg and "alias" in msg
    assert not (tmp_path / "out").exists()


def test_a_site_model_without_sites_is_refused_at_load(tmp_path):
    p = tmp_path / "nosites.toml"
    text = SCENARIO.format(region=DEMO.as_posix(), emergency='"院前急救站"', centres='"卫生院"')
    p.write_text(text.replace('candidate_types = ["community building", "village committee", '
                              '"township land"]\n', ""), "utf-8")
    with pytest.raises(GeoplanInputError) as e:
        run_scenario(p, output=tmp_path / "out")
    assert "nosites.toml" in str(e.value) and "no sites to choose from" in str(e.value)
    assert "candidate_types" in str(e.value) and "line" in str(e.value)

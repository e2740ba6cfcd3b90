"""Every input column is read as a field, named, or reported as not used (never dropped
without a word): recognised zh/en headers for cost, capacity and beds (units in the
header), the one warning per file, column keys a reader has no field for, and the demo."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
from conftest import DEMO
from shapely.geometry import box

from geoplan import GeoplanInputError, GeoplanWarning
from geoplan.cli.main import COLUMN_OPTIONS, main
from geoplan.inputs.readers import (
    CANDIDATE_FIELDS,
    FACILITY_FIELDS,
    read_candidates,
    read_facilities,
    read_population,
)
from geoplan.inputs.region import load_region


def _geoplan_warnings(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, GeoplanWarning)]


def test_chinese_cost_header_is_read_and_the_rest_reported(write):
    text = ("id,name,site_type,建设费用万元,备注,lon,lat\n"
            "S1,李家村委会,village committee,41.5,靠近主路,114.30,30.05\n"
            "S2,王家村委会,village committee,52,,114.31,30.06\n")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        c = read_candidates(write("candidates.csv", text))
    assert list(c["cost"]) == [41.5, 52.0]                 # used as the cost, in 万元
    msgs = _geoplan_warnings(rec)
    assert len(msgs) == 1, msgs                             # one warning per file
    msg = msgs[0]
    assert "candidates.csv: columns not used: 备注" in msg
    assert "建设费用万元" not in msg and "site_type" not in msg   # used / carried
    assert "[candidates] in region.toml" in msg and "capacity = " in msg
    assert list(c["备注"]) == ["靠近主路", ""]              # candidates keep them as they are


def test_facilities_unused_columns_are_named_with_the_manifest_key(write):
    text = ("id,name,type,beds,lon,lat,备注,price\n"
            "H1,县医院,二级医院,300,114.30,30.05,新院区,1200\n")
    with pytest.warns(GeoplanWarning) as rec:
        f = read_facilities(write("facilities.csv", text))
    msg = next(m for m in _geoplan_warnings(rec) if "not used" in m)
    assert msg.startswith(str(write("x", "x").parent / "facilities.csv"))
    assert "columns not used: 备注, price (left out)" in msg
    assert 'cost = "price"' in msg and "[facilities] in region.toml" in msg and "--cost" in msg
    assert np.isnan(f["cost"]).all() and "备注" not in f.columns
    # named as the message says, the column is used and the warning names only 备注
    with pytest.warns(GeoplanWarning) as rec:
        g = read_facilities(write("facilities.csv", text), columns={"cost": "price"})
    assert list(g["cost"]) == [1200.0]
    assert [m for m in _geoplan_warnings(rec) if "not used" in m][0].count("price") == 0


@pytest.mark.parametrize("header,value,expected", [
    ("cost", "50", 50.0), (" COST ", "50", 50.0), ("Fixed cost", "50", 50.0),
    ("fixed_cost_wan", "50", 50.0), ("cost_wan", "50", 50.0), ("费用", "50", 50.0),
    ("建设费用", "50", 50.0), ("建设费用万元", "50", 50.0), ("建设费用（万元）", "50", 50.0),
    ("投资", "50", 50.0), ("投资额(万元)", "50", 50.0), ("造价", "50", 50.0),
    ("ＣＯＳＴ", "50", 50.0),                                 # full-width letters
])
def test_cost_headers_in_wan(write, header, value, expected):
    text = f"id,{header},lon,lat\nS1,{value},114.3,30.05\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeoplanWarning)
        c = read_candidates(write("c.csv", text))
    assert c.loc[0, "cost"] == expected


@pytest.mark.parametrize("header,value,expected", [
    ("造价（元）", "500000", 50.0), ("建设费用元", "500000", 50.0), ("cost_yuan", "500000", 50.0),
    ("投资（千元）", "500", 50.0), ("总投资(亿元)", "0.005", 50.0)])
def test_cost_in_other_units_is_converted_to_wan_with_a_warning(write, header, value,
                                                               expected):
    text = f"id,{header},lon,lat\nS1,{value},114.3,30.05\n"
    with pytest.warns(GeoplanWarning, match="to 万元") as rec:
        c = read_candidates(write("c.csv", text))
    assert c.loc[0, "cost"] == pytest.approx(expected)
    assert not [m for m in _geoplan_warnings(rec) if "not used" in m]


def test_named_cost_with_an_unknown_unit_is_read_as_wan_and_said(write):
    text = "id,cost (usd),lon,lat\nS1,7,114.3,30.05\n"
    with pytest.warns(GeoplanWarning, match="columns not used: cost \\(usd\\)"):
        assert np.isnan(read_candidates(write("c.csv", text))["cost"]).all()
    with pytest.warns(GeoplanWarning, match="'usd'.*read as 万元"):
        c = read_candidates(write("c.csv", text), columns={"cost": "cost (usd)"})
    assert c.loc[0, "cost"] == 7.0


@pytest.mark.parametrize("beds,cap", [("床位数（张）", "服务能力"), ("实有床位", "容量"),
                                      ("BEDS", "Capacity"), ("编制床位", "服务人口（人）")])
def test_beds_and_capacity_headers(write, beds, cap):
    text = f"id,type,{beds},{cap},lon,lat\nH1,二级医院,300,5000,114.3,30.05\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeoplanWarning)
        f = read_facilities(write("f.csv", text))
    assert f.loc[0, "beds"] == 300 and f.loc[0, "capacity"] == 5000


def test_facility_cost_name_en_address_and_admin_name_are_fields(write):
    text = ("编号,名称,英文名称,类型,床位数,升级费用,地址,区划名称,经度,纬度\n"
            "H1,县医院,County Hospital,二级医院,300,800,城关镇1号,城关镇,114.3,30.05\n")
    with pytest.warns(GeoplanWarning, match="columns not used: 升级费用"):
        read_facilities(write("f.csv", text))
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeoplanWarning)
        f = read_facilities(write("f.csv", text), columns={"cost": "升级费用"})
    row = f.iloc[0]
    assert (row["cost"], row["name_en"], row["address"], row["admin_name"]) == (
        800.0, "County Hospital", "城关镇1号", "城关镇")


def test_a_column_key_the_reader_has_no_field_for_is_refused(write):
    text = "id,name,lon,lat,beds\nS1,a,114.3,30.05,10\n"
    with pytest.raises(GeoplanInputError) as e:
        read_candidates(write("c.csv", text), columns={"beds": "beds"})
    assert "c.csv" in str(e.value) and "'beds'" in str(e.value) and "cost" in str(e.value)
    with pytest.raises(GeoplanInputError, match="'price' is not a column key"):
        read_facilities(write("f.csv", text), columns={"price": "beds"})


def test_region_toml_column_keys_reach_the_readers(tmp_path):
    (tmp_path / "f.csv").write_text(
        "id,type,beds,upgrade_wan,lon,lat\nH1,二级医院,300,800,114.3,30.05\n", encoding="utf-8")
    (tmp_path / "c.csv").write_text(
        "id,价格,lon,lat\nS1,55,114.31,30.06\n", encoding="utf-8")
    (tmp_path / "region.toml").write_text(
        f'name = "r"\n[boundaries]\npath = "{(DEMO / "boundaries.geojson").as_posix()}"\n'
        '[facilities]\npath = "f.csv"\ncost = "upgrade_wan"\n'
        '[candidates]\npath = "c.csv"\ncost = "价格"\n', encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeoplanWarning)
        region = load_region(tmp_path, layers=("facilities", "candidates"))
    assert list(region.facilities["cost"]) == [800.0]
    assert list(region.candidates["cost"]) == [55.0]


def test_the_demo_reads_without_a_warning_about_its_columns():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        region = load_region(DEMO, layers=("facilities", "candidates"))
    assert _geoplan_warnings(rec) == []
    fac, cand = region.facilities, region.candidates
    assert fac["name_en"].str.len().gt(0).all() and fac["address"].str.len().gt(0).all()
    assert cand["cost"].notna().all() and cand["site_type"].notna().all()


def test_population_grid_columns_not_used_are_reported(tmp_path):
    cells = gpd.GeoDataFrame({"pop2020": [10.0, 20.0], "pop2010": [8.0, 15.0]},
                             geometry=[box(114.30, 30.05, 114.301, 30.051),
                                       box(114.301, 30.05, 114.302, 30.051)], crs=4326)
    p = tmp_path / "grid.geojson"
    cells.to_file(p, driver="GeoJSON")
    with pytest.warns(GeoplanWarning, match='columns not used: pop2010.*column = "pop2010"'):
        pop = read_population(p, column="pop2020")
    assert pop["population"].sum() == 30.0


def test_inspect_takes_every_field_as_an_option(write, capsys):
    assert set(COLUMN_OPTIONS) == set(FACILITY_FIELDS) | set(CANDIDATE_FIELDS)
    p = write("c.csv", "id,价格,lon,lat\nS1,55,114.31,30.06\n")
    assert main(["inspect", str(p), "--kind", "candidates", "--cost", "价格"]) == 0
    cap = capsys.readouterr()
    assert "55.0 in all" in cap.out and "not used" not in cap.err
    assert main(["inspect", str(p), "--kind", "candidates"]) == 0
    assert "columns not used: 价格" in capsys.readouterr().err

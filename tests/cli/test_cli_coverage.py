"""``geoplan coverage``: hand-checked figures, the demo region, and clean errors."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from conftest import DEMO
from osm_fixtures import write_osm

from geoplan.cli.main import main


@pytest.fixture
def small(tmp_path):
    """Write a 6 x 6 street grid (~96 m x 111 m blocks), two units, 3 cells, 2 facilities.

    Walking (5 km/h): cell A is one block east of F1 (96 m, 1.2 min); cell B is five
    blocks east and five north of F1 (1,036 m, 12.4 min) and five blocks east of F2;
    cell C is 2.8 km south of every road (unreachable).
    """
    net = write_osm(tmp_path / "roads.osm", n=6)
    units = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code, "name": name, "district_code": "D"},
         "geometry": {"type": "Polygon", "coordinates": [[[x0, 30.02], [x1, 30.02],
                                                          [x1, 30.06], [x0, 30.06],
                                                          [x0, 30.02]]]}}
        for code, name, x0, x1 in (("W", "西镇", 114.2990, 114.3025),
                                   ("E", "东镇", 114.3025, 114.3060))]}
    bounds = tmp_path / "units.geojson"
    bounds.write_text(json.dumps(units, ensure_ascii=False), encoding="utf-8")
    pop = tmp_path / "pop.csv"
    pop.write_text("lon,lat,population\n114.301,30.05,100\n114.305,30.055,50\n"
                   "114.304,30.025,10\n", encoding="utf-8")
    fac = tmp_path / "fac.csv"
    fac.write_text("id,name,type,lon,lat\nF1,一号,医保服务站,114.300,30.05\n"
                   "F2,二号,村卫生室,114.300,30.055\n", encoding="utf-8")
    args = ["coverage", "--facilities", str(fac), "--population", str(pop), "--network",
            str(net), "--boundaries", str(bounds)]
    return args, tmp_path


def test_small_region_hand_checked(small, capsys):
    args, tmp = small
    out = tmp / "result"
    code = main([*args, "--types", "insurance_service_point", "--minutes", "15", "5",
                 "--out", str(out), "--lang", "zh"])
    assert code == 0
    printed = capsys.readouterr()
    assert "步行" in printed.out and "医保服务站" in printed.out and "合计" in printed.out
    assert "Traceback" not in printed.err
    units = pd.read_csv(out / "coverage_units.csv", encoding="utf-8-sig")
    assert units["admin_code"].tolist() == ["W", "E", "total"]
    assert units["admin_name"].tolist()[:2] == ["西镇", "东镇"]
    assert units["mode"].unique().tolist() == ["walk"]
    np.testing.assert_allclose(units["population"], [100, 60, 160])
    np.testing.assert_allclose(units["covered_5min"], [100, 0, 100])
    np.testing.assert_allclose(units["covered_15min"], [100, 50, 150])
    np.testing.assert_allclose(units["share_15min"], [1.0, 50 / 60, 150 / 160])
    cells = pd.read_csv(out / "coverage_cells.csv", encoding="utf-8-sig")
    assert cells["walk_facility_id"].tolist()[:2] == ["F1", "F1"]
    assert cells["walk_minutes"].iloc[0] == pytest.approx(1.16, abs=0.02)
    assert cells["walk_minutes"].iloc[1] == pytest.approx(12.4, abs=0.1)
    assert np.isnan(cells["walk_minutes"].iloc[2])
    assert cells["walk_covered_5min"].tolist() == [True, False, False]
    np.testing.assert_allclose(cells["lon"], [114.301, 114.305, 114.304], atol=1e-6)
    layer = gpd.read_file(out / "coverage_units.gpkg")
    assert layer.geometry.notna().sum() == 2 and len(layer) == 3
    assert len(gpd.read_file(out / "coverage_cells.gpkg")) == 3
    assert sorted(p.name for p in out.iterdir()) == [
        "coverage_cells.csv", "coverage_cells.gpkg", "coverage_units.csv",
        "coverage_units.gpkg"]


def test_small_region_several_modes_all_types(small, capsys):
    args, tmp = small
    out = tmp / "multi"
    assert main([*args, "--mode", "walk", "drive", "--minutes", "5", "--out", str(out),
                 "--level", "district_code"]) == 0
    text = capsys.readouterr().out
    assert "walk: people within 5 min of all facilities" in text and "drive:" in text
    units = pd.read_csv(out / "coverage_units.csv", encoding="utf-8-sig")
    assert units["mode"].tolist() == ["walk", "walk", "drive", "drive"]
    assert units["district_code"].tolist() == ["D", "total", "D", "total"]
    # with F2 (village clinic) B is 481 m away: 5.8 min walking, so still not within 5
    np.testing.assert_allclose(units["covered_5min"], [100, 100, 150, 150])
    cells = pd.read_csv(out / "coverage_cells.csv", encoding="utf-8-sig")
    assert {"walk_minutes", "drive_minutes", "walk_covered_5min", "drive_facility_id"} <= \
        set(cells.columns)
    assert cells["walk_facility_id"].tolist()[:2] == ["F1", "F2"]
    assert (cells["drive_minutes"][:2] < cells["walk_minutes"][:2]).all()


def test_demo_region(tmp_path, capsys):
    out = tmp_path / "cov"
    assert main(["coverage", str(DEMO), "--mode", "walk", "--minutes", "15", "--types",
                 "insurance_service_point", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "Total" in printed.out and "warning:" in printed.err
    units = pd.read_csv(out / "coverage_units.csv", encoding="utf-8-sig",
                        dtype={"admin_code": str})
    assert len(units) == 15 and units["admin_code"].iloc[-1] == "total"
    assert units["population"].iloc[-1] == pytest.approx(1_021_972, abs=1)
    cells = pd.read_csv(out / "coverage_cells.csv", encoding="utf-8-sig",
                        dtype={"admin_code": str})
    assert len(cells) == 201_149
    covered = (cells["population"] * cells["walk_covered_15min"]).groupby(
        cells["admin_code"]).sum()
    body = units.iloc[:-1].set_index("admin_code")
    np.testing.assert_allclose(body["covered_15min"], covered.reindex(body.index).fillna(0),
                               rtol=1e-9)
    share = units["share_15min"].iloc[-1]
    assert 0.05 < share < 0.6
    assert f"{share:.1%}" in printed.out
    assert pyogrio.read_info(out / "coverage_cells.gpkg")["features"] == 201_149
    assert pyogrio.read_info(out / "coverage_units.gpkg")["geometry_type"] in (
        "Polygon", "MultiPolygon")


@pytest.mark.parametrize(("extra", "message"), [
    (["--types", "dentist"], "unknown facility type 'dentist'"),
    (["--types", "emergency_station"], "no facilities of type emergency_station"),
    (["--minutes", "15", "-5"], "minutes must be positive"),
    (["--level", "town_code"], "boundaries have no column 'town_code'"),
])
def test_bad_options_exit_2(small, capsys, extra, message):
    args, tmp = small
    assert main([*args, "--out", str(tmp / "x"), *extra]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and message in err and "Traceback" not in err
    assert not (tmp / "x").exists()


def test_bad_inputs_exit_2(small, capsys, tmp_path):
    args, tmp = small
    cases = [
        ([a if a != str(tmp / "fac.csv") else str(tmp / "nope.csv") for a in args],
         "nope.csv"),
        (args[:5], "no road network given"),
        (["coverage", str(tmp_path / "no_region")], "region manifest not found"),
    ]
    for argv, message in cases:
        assert main([*argv, "--out", str(tmp / "y")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and message in err, err
    blocker = tmp / "blocker"
    blocker.write_text("a file, not a folder")
    assert main([*args, "--out", str(blocker / "sub")]) == 2
    assert "cannot create the output folder" in capsys.readouterr().err
    assert main([*args, "--mode", "bus"]) == 2
    assert "invalid choice: 'bus'" in capsys.readouterr().err


def _one_unit(tmp_path, dx: float = 0.0):
    import geopandas as gpd
    from shapely.geometry import box

    b = gpd.read_file(DEMO / "boundaries.geojson").to_crs(4326)
    w, s, e, n = b.total_bounds
    p = tmp_path / "one.geojson"
    gpd.GeoDataFrame({"code": ["X1"], "name": ["全域"]},
                     geometry=[box(w - 0.01 + dx, s - 0.01, e + 0.01 + dx, n + 0.01)],
                     crs=4326).to_file(p)
    return p


def test_boundaries_given_with_a_region_retag_its_population(tmp_path, capsys):
    """--boundaries replaces the region's units: one unit over the whole region holds all
    1,021,972 people (the region's own unit tags gave 'X1 ... 0' and '(none) ... 1,021,972');
    units 3 degrees away are refused before any travel time is computed."""
    out = tmp_path / "cov"
    assert main(["coverage", str(DEMO), "--boundaries", str(_one_unit(tmp_path)), "--mode",
                 "drive", "--minutes", "30", "--types", "rural_regional_centre",
                 "--out", str(out)]) == 0
    units = pd.read_csv(out / "coverage_units.csv", encoding="utf-8-sig",
                        dtype={"admin_code": str})
    assert list(units["admin_code"]) == ["X1", "total"]
    assert units["population"].iloc[0] == pytest.approx(1_021_972, abs=1)
    capsys.readouterr()
    (tmp_path / "far").mkdir()
    far = _one_unit(tmp_path / "far", dx=3.0)
    assert main(["coverage", str(DEMO), "--boundaries", str(far), "--mode", "drive",
                 "--out", str(tmp_path / "far_out")]) == 2
    err = capsys.readouterr().err
    assert "none of the population lies in these boundaries" in err and "one.geojson" in err
    assert not (tmp_path / "far_out").exists()

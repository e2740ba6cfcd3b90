"""Reading facilities and candidates: formats, encodings, coordinate systems, bad input."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import Point, box

from geoplan import GeoplanInputError, GeoplanWarning, StudyArea, load_vocabulary
from geoplan.inputs.chinacrs import wgs84_to_bd09, wgs84_to_gcj02
from geoplan.inputs.readers import read_boundaries, read_candidates, read_facilities

HEADER = "id,name,type,beds,lon,lat\n"
GOOD = HEADER + (
    "H1,第一人民医院,三级医院,1200,114.30,30.05\n"
    "T1,石桥镇卫生院,乡镇卫生院,60,114.40,30.10\n"
    "V1,李村卫生室,村卫生室,,114.35,30.00\n"
    "I1,医保服务站,医保服务站,,114.31,30.06\n"
)


def _err(excinfo) -> str:
    return str(excinfo.value)


def test_reads_csv_with_chinese_types(write):
    f = read_facilities(write("f.csv", GOOD))
    assert list(f["type"]) == ["tertiary_hospital", "township_health_centre", "village_clinic",
                               "insurance_service_point"]
    assert list(f["beds"]) == [1200, 60, 0, 0]
    assert f.crs.to_epsg() == 32650  # UTM 50N spans 114-120 E
    assert f["capacity"].isna().all()
    assert f["in_area"].all()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_encodings_planners_have(write, encoding):
    f = read_facilities(write("f.csv", GOOD, encoding=encoding))
    assert f.loc[0, "name"] == "第一人民医院"
    assert f.loc[0, "id"] == "H1"


def test_undecodable_text_names_file_and_line(write):
    raw = GOOD.encode("utf-8") + b"X9,\xff\xfe\xfd\x80\x80,village_clinic,,114.3,30.0\n"
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("f.csv", raw), encoding="utf-8")
    assert "f.csv" in _err(e) and "line 6" in _err(e)


def test_undecodable_text_auto_encoding(write):
    raw = GOOD.encode("utf-8") + b"X9,\x81\x30\xff\xff,village_clinic,,114.3,30.0\n"
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("bad.csv", raw))
    assert "bad.csv" in _err(e) and "decode" in _err(e) and "line 6" in _err(e)


def test_chinese_headers_are_recognised(write):
    text = "编号,机构名称,机构类型,床位数,经度,纬度\nA,县人民医院,二级医院,300,114.3,30.05\n"
    f = read_facilities(write("f.csv", text, encoding="gbk"))
    assert f.loc[0, "type"] == "secondary_hospital" and f.loc[0, "beds"] == 300


def test_configurable_column_names(write):
    text = "code,label,kind,nbeds,X_LON,Y_LAT\nA,Hosp,tertiary_hospital,900,114.3,30.05\n"
    cols = {"id": "code", "name": "label", "type": "kind", "beds": "nbeds", "lon": "X_LON",
            "lat": "Y_LAT"}
    f = read_facilities(write("f.csv", text), columns=cols)
    assert f.loc[0, "id"] == "A" and f.loc[0, "beds"] == 900


def test_gcj02_and_bd09_are_converted_to_wgs84(write):
    geod = Geod(ellps="WGS84")
    lon, lat = np.array([114.30, 114.52]), np.array([30.05, 29.91])
    for crs, fwd in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        x, y = fwd(lon, lat)
        text = HEADER + "".join(f"P{i},n,village_clinic,,{x[i]:.8f},{y[i]:.8f}\n" for i in range(2))
        f = read_facilities(write(f"{crs}.csv", text), crs=crs).to_crs(4326)
        dist = geod.inv(f.geometry.x, f.geometry.y, lon, lat)[2]
        assert np.max(dist) < 0.05
        raw = read_facilities(write(f"{crs}_as_wgs.csv", text)).to_crs(4326)
        assert np.min(geod.inv(raw.geometry.x, raw.geometry.y, lon, lat)[2]) > 100


def test_projected_xy_input(write):
    text = "id,type,x,y\nA,village_clinic,500000,3300000\n"
    f = read_facilities(write("f.csv", text), crs="EPSG:32650", to_crs="EPSG:32650")
    assert f.geometry.x[0] == 500000 and f.geometry.y[0] == 3300000


def test_geojson_gpkg_shapefile(tmp_path):
    gdf = gpd.GeoDataFrame({"id": ["A", "B"], "name": ["x", "y"],
                            "type": ["tcm_hospital", "village_clinic"], "beds": [200.0, None]},
                           geometry=[Point(114.3, 30.05), Point(114.31, 30.06)], crs=4326)
    for name, driver in (("f.geojson", "GeoJSON"), ("f.gpkg", "GPKG"), ("f.shp", None)):
        p = tmp_path / name
        gdf.to_file(p, driver=driver) if driver else gdf.to_file(p)
        f = read_facilities(p)
        assert list(f["beds"]) == [200.0, 0.0] and list(f["id"]) == ["A", "B"]


def test_vocabulary_is_extensible(write):
    text = HEADER + "D1,血透中心,血液透析中心,,114.3,30.05\n"
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("f.csv", text))
    assert "line 2" in _err(e) and "'type'" in _err(e) and "村卫生室" in _err(e)
    vocab = load_vocabulary({"dialysis_centre": {"zh": "血透中心", "en": "Dialysis centre",
                                                 "aliases": ["血液透析中心"]}})
    f = read_facilities(write("f.csv", text), vocabulary=vocab)
    assert f.loc[0, "type"] == "dialysis_centre"


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("reader", [read_facilities, read_candidates])
def test_missing_file(tmp_path, reader):
    with pytest.raises(GeoplanInputError) as e:
        reader(tmp_path / "nope.csv")
    assert "nope.csv" in _err(e) and "not found" in _err(e)


def test_unknown_format(write):
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("f.xlsx", b"PK\x03\x04"))
    assert "f.xlsx" in _err(e) and "unknown format" in _err(e) and ".csv" in _err(e)


@pytest.mark.parametrize("content", ["", "   \n\n", "id,type,lon,lat\n"])
def test_empty_file(write, content):
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("empty.csv", content))
    assert "empty.csv" in _err(e)
    assert "empty" in _err(e) or "no content" in _err(e) or "no data rows" in _err(e)


def test_missing_required_column(write):
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("f.csv", "id,name,beds,lon,lat\nA,x,3,114,30\n"))
    assert "f.csv" in _err(e) and "'type'" in _err(e) and "columns present" in _err(e)
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("g.csv", "id,type,longitude\nA,village_clinic,114\n"))
    assert "g.csv" in _err(e) and "'lat'" in _err(e)


def test_named_column_that_does_not_exist(write):
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("f.csv", GOOD), columns={"beds": "床位"})
    assert "'床位'" in _err(e) and "'beds'" in _err(e)


@pytest.mark.parametrize("value,problem", [
    ("abc", "not a bed count"), ("-5", "negative"), ("NaN", "not a bed count"),
    ("", "empty"), ("inf", "infinite")])
def test_bad_beds(write, value, problem):
    text = HEADER + "H1,a,三级医院,1000,114.3,30.05\n" + f"H2,b,二级医院,{value},114.3,30.05\n"
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("beds.csv", text))
    msg = _err(e)
    assert "beds.csv" in msg and "line 3" in msg and "(id 'H2')" in msg
    assert "field 'beds'" in msg and problem in msg


def test_hospital_without_beds_column(write):
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("f.csv", "id,type,lon,lat\nA,三级医院,114.3,30\n"))
    assert "beds" in _err(e) and "line 2" in _err(e)


def test_beds_missing_for_clinic_is_zero(write):
    f = read_facilities(write("f.csv", "id,type,lon,lat\nA,村卫生室,114.3,30\n"))
    assert f.loc[0, "beds"] == 0


@pytest.mark.parametrize("lon,lat", [("114.3", "95"), ("190", "30")])
def test_coordinates_out_of_range(write, lon, lat):
    text = GOOD + f"X1,x,村卫生室,,{lon},{lat}\n"
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("f.csv", text))
    assert "f.csv" in _err(e) and "line 6" in _err(e) and "out of range" in _err(e)


def test_swapped_lat_lon_columns(write):
    text = "id,type,lon,lat\nA,村卫生室,30.05,114.3\nB,村卫生室,30.10,114.4\n"
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("f.csv", text))
    assert "swapped" in _err(e) and "line 2" in _err(e)


def test_swapped_within_range_detected_for_china(write):
    # Xinjiang (lon 80, lat 40) written the wrong way round stays inside +-90
    text = "id,type,lon,lat\nA,村卫生室,40.0,80.0\n"
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("f.csv", text), crs="gcj02")
    assert "swapped" in _err(e) and "outside China" in _err(e)


def test_non_numeric_coordinate(write):
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("f.csv", GOOD + "X,x,村卫生室,,东经114,30\n"))
    assert "line 6" in _err(e) and "field 'lon'" in _err(e) and "not a coordinate" in _err(e)


def test_duplicate_ids(write):
    text = GOOD + "T1,重复,村卫生室,,114.3,30.0\n"
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(write("dup.csv", text))
    msg = _err(e)
    assert "dup.csv" in msg and "duplicate id 'T1'" in msg and "line 3" in msg and "line 6" in msg


def test_shapefile_without_crs(tmp_path):
    gdf = gpd.GeoDataFrame({"id": ["A"], "type": ["village_clinic"]},
                           geometry=[Point(114.3, 30.05)])
    p = tmp_path / "nocrs.shp"
    gdf.to_file(p)
    assert not (tmp_path / "nocrs.prj").exists()
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(p)
    assert "nocrs.shp" in _err(e) and "no coordinate reference system" in _err(e)
    assert len(read_facilities(p, crs="EPSG:4326")) == 1


def test_outside_study_area_warns_with_counts(write):
    f0 = read_facilities(write("f.csv", GOOD))
    core = box(*f0.iloc[[0, 3]].total_bounds).buffer(500)
    area = StudyArea(crs=f0.crs, outline=core)
    with pytest.warns(GeoplanWarning, match=r"2 of 4 facilities lie outside the study area"):
        f = read_facilities(write("f.csv", GOOD), area=area)
    assert list(f["in_area"]) == [True, False, False, True]


def test_admin_units_tagged(write, tmp_path):
    units = gpd.GeoDataFrame({"code": ["1", "2"], "name": ["西", "东"]},
                             geometry=[box(114.0, 29.9, 114.32, 30.2), box(114.32, 29.9, 114.6, 30.2)],
                             crs=4326)
    units.to_file(tmp_path / "u.geojson")
    b = read_boundaries(tmp_path / "u.geojson")
    f = read_facilities(write("f.csv", GOOD), boundaries=b)
    assert list(f["admin_code"]) == ["1", "2", "2", "1"]
    assert list(f["admin_name"]) == ["西", "东", "东", "西"]


def test_candidates_costs(write):
    text = "id,name,fixed_cost_wan,lon,lat\nS1,a,50,114.3,30.05\nS2,b,,114.31,30.05\n"
    c = read_candidates(write("c.csv", text))
    assert c.loc[0, "cost"] == 50 and np.isnan(c.loc[1, "cost"])
    with pytest.raises(GeoplanInputError) as e:
        read_candidates(write("c2.csv", text.replace(",50,", ",-1,")))
    assert "c2.csv" in _err(e) and "line 2" in _err(e) and "negative" in _err(e)


def test_no_warning_for_good_input(write):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_facilities(write("f.csv", GOOD))


def test_bom_in_front_of_gbk_text_is_not_part_of_the_header(tmp_path):
    """An editor that adds a UTF-8 byte-order mark to a GBK export: the mark decoded as
    GBK became '锘' in front of the first column ('锘縤d'), ids silently became row1...;
    read as GBK without the mark, with a warning."""
    from geoplan import GeoplanWarning, read_facilities

    p = tmp_path / "f.csv"
    p.write_bytes(b"\xef\xbb\xbf" + "id,name,type,lon,lat\nA1,青山卫生院,卫生院,114.3,30.05\n"
                  .encode("gbk"))
    with pytest.warns(GeoplanWarning, match="byte-order mark"):
        fac = read_facilities(p, crs="wgs84")
    assert list(fac["id"]) == ["A1"] and list(fac["name"]) == ["青山卫生院"]

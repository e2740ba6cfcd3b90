"""The facility-type vocabulary."""

from __future__ import annotations

import pytest

from geoplan import GeoplanInputError, default_vocabulary, load_vocabulary


def test_every_type_has_both_labels_and_lookups():
    vocab = default_vocabulary()
    assert len(vocab.types) >= 11
    for t in vocab.types.values():
        assert t.zh and t.en
        assert vocab.code_of(t.code) == t.code
        assert vocab.code_of(t.zh) == t.code
        assert vocab.code_of(t.en.upper()) == t.code
        for alias in t.aliases:
            assert vocab.code_of(alias) == t.code, alias


def test_labels_by_language():
    vocab = default_vocabulary()
    assert vocab.label("township_health_centre", "zh") == "乡镇卫生院"
    assert vocab.label("township_health_centre", "en") == "Township health centre"
    assert vocab.label("unknown_code") == "unknown_code"


def test_extend_from_toml(tmp_path):
    p = tmp_path / "types.toml"
    p.write_text('[dialysis_centre]\nzh = "血透中心"\nen = "Dialysis centre"\n'
                 '[village_clinic]\nzh = "村卫生室"\nen = "Village clinic"\naliases = ["村诊所"]\n',
                 "utf-8")
    vocab = load_vocabulary(p)
    assert vocab.code_of("血透中心") == "dialysis_centre"
    assert vocab.code_of("村诊所") == "village_clinic"
    assert vocab.code_of("卫生室") == "village_clinic"  # built-in alias kept


def test_bad_vocabulary_files(tmp_path):
    with pytest.raises(GeoplanInputError, match="not found"):
        load_vocabulary(tmp_path / "none.toml")
    (tmp_path / "bad.toml").write_text("[x\n", "utf-8")
    with pytest.raises(GeoplanInputError, match="bad.toml.*TOML"):
        load_vocabulary(tmp_path / "bad.toml")
    with pytest.raises(GeoplanInputError, match="'zh' and an 'en'"):
        load_vocabulary({"x": {"zh": "只有中文"}})


def test_raw_gaode_poi_type_strings_resolve_to_their_most_specific_known_part():
    from geoplan.inputs.facility_types import default_vocabulary
    v = default_vocabulary()
    assert v.code_of("医疗保健服务;综合医院;三级甲等医院") == "tertiary_hospital"
    # several types joined by "|": the first that is known
    assert v.code_of("医疗保健服务;动物医疗场所;宠物诊所|医疗保健服务;综合医院;三级甲等医院") \
        == "tertiary_hospital"
    assert v.code_of("医疗保健服务;动物医疗场所;宠物诊所") is None   # not a health facility
    assert v.code_of(";;") is None and v.code_of("三级医院") == "tertiary_hospital"


def test_poi_table_names_only_real_types():
    from geoplan.inputs.facility_types import default_vocabulary, poi_table
    v, poi = default_vocabulary(), poi_table()
    assert set(poi.typecodes.values()) | set(poi.categories.values()) <= set(v.types)
    assert all(len(c) == 6 and c.isdigit() for c in poi.typecodes)
    # no category is both a planning type and no planning type
    assert not set(poi.categories) & set(poi.not_planning)


@pytest.mark.parametrize(("value", "code"), [
    ("090101", "tertiary_hospital"),                       # Gaode typecode
    ("090102", "township_health_centre"),
    ("090601|090400", "emergency_station"),                # first planning typecode
    ("医疗保健服务;综合医院;卫生院", "township_health_centre"),
    ("医疗保健服务;急救中心;急救中心", "emergency_station"),
    ("医疗;急救中心", "emergency_station"),                 # Baidu 一级;二级
    ("医疗;社区医疗", "community_health_centre"),
    ("医疗保健服务;综合医院;三级甲等医院", "tertiary_hospital"),
])
def test_map_service_categories_resolve(value, code):
    assert default_vocabulary().code_of(value) == code


@pytest.mark.parametrize(("value", "words"), [
    ("医疗保健服务;综合医院;综合医院", ["综合医院", "grade", "alias"]),
    ("医疗保健服务;专科医院;口腔医院", ["专科医院", "specialist"]),
    ("医疗保健服务;医药保健销售店;药房", ["药房", "pharmacies"]),
    ("医疗;诊所", ["诊所", "clinics"]),
    ("090601", ["090601", "090101"]),
])
def test_unplannable_categories_say_why(value, words):
    v = default_vocabulary()
    assert v.code_of(value) is None
    why = v.explain_unknown(value)
    assert all(w in why for w in words), why


def test_a_users_alias_wins_over_the_poi_table(tmp_path):
    p = tmp_path / "types.toml"
    p.write_text('[secondary_hospital]\nzh = "二级医院"\nen = "Secondary hospital"\n'
                 'aliases = ["医疗保健服务;综合医院;综合医院", "诊所"]\n', "utf-8")
    v = load_vocabulary(p)
    assert v.code_of("医疗保健服务;综合医院;综合医院") == "secondary_hospital"
    assert v.code_of("医疗;诊所") == "secondary_hospital"        # a part the user mapped


def test_unknown_types_list_the_closest_names():
    v = default_vocabulary()
    assert "医保服务站 (insurance_service_point)" in v.explain_unknown("医保服务zhan")
    assert "township_health_centre" in v.explain_unknown("township helth centre")
    assert v.explain_unknown("qqqqqqqq") == ""
    with pytest.raises(GeoplanInputError, match="closest: 急救站") as e:
        v.require_codes(["急救站点"], "--types")
    assert "--types" in str(e.value)


def test_reader_names_file_row_value_and_closest(tmp_path):
    from geoplan.inputs.readers import read_facilities
    p = tmp_path / "f.csv"
    p.write_text("id,type,lon,lat\nA,医保服务站,114.3,30.05\nB,医保服务zhan,114.31,30.05\n",
                 "utf-8")
    with pytest.raises(GeoplanInputError) as e:
        read_facilities(p)
    msg = str(e.value)
    assert "f.csv" in msg and "B" in msg and "医保服务zhan" in msg
    assert "closest: 医保服务站 (insurance_service_point)" in msg

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

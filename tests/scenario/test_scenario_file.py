"""Scenario files are validated up front; errors name the file, the line and the key."""

from __future__ import annotations

import pytest
from conftest import DEMO

from geoplan import GeoplanInputError
from geoplan.scenario.spec import MODEL_KINDS, check_model, read_scenario

GOOD = f"""
name = "15-minute insurance circle"
name_zh = "15分钟医保服务圈"
region = "{DEMO.as_posix()}"
language = "zh"

[[coverage]]
name = "today"
types = ["insurance_service_point"]
modes = ["walk", "ebike"]
minutes = 15

[[model]]
name = "fewest"
kind = "set_covering"
existing_types = ["insurance_service_point"]
mode = "ebike"
minutes = 15
target_share = 0.95
unit_min_share = 0.85
candidate_types = ["community building"]
"""


def _write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_good_file_reads_with_defaults(tmp_path):
    sc = read_scenario(_write(tmp_path, GOOD))
    assert sc.region == DEMO.resolve() and sc.language == "zh" and sc.maps
    assert sc.coverage[0].minutes == (15,) and sc.coverage[0].level == "admin_code"
    assert sc.models[0].kind == "set_covering" and sc.models[0].target_share == 0.95
    assert sc.output.name == "s" and sc.output.parent.name == "outputs"
    assert sc.label() == "15分钟医保服务圈"


@pytest.mark.parametrize("old,new,words,line", [
    ('minutes = 15\ntarget_share', 'minutes = "15"\ntarget_share', ["'minutes'", "number"], 18),
    ('target_share = 0.95', 'target_share = 95', ["target_share", "share"], 19),
    ('unit_min_share', 'unit_min_shar', ["unknown key 'unit_min_shar'"], 20),
    ('kind = "set_covering"', 'kind = "set_cover"', ["unknown model kind", "set_covering"], 15),
    ('kind = "set_covering"', 'kind = ["set_covering"]', ["'kind'", "list", "p_median"], 15),
    ('kind = "set_covering"', 'kind = {a = 1}', ["'kind'", "dict"], 15),
    ('modes = ["walk", "ebike"]', 'modes = ["walk", "bus"]', ["unknown mode", "bus"], 10),
    ('language = "zh"', 'language = "fr"', ["language", "'zh'"], 5),
    ('name = "fewest"\n', '', ["missing required key 'name'"], 13),
])
def test_errors_name_key_and_line(tmp_path, old, new, words, line):
    _refused(tmp_path, GOOD, old, new, words, line)


def _refused(tmp_path, base, old, new, words, line):
    """``base`` with ``old`` made ``new`` is refused naming the file, ``line`` and
    ``words``."""
    text = base.replace(old, new, 1)
    assert text != base
    with pytest.raises(GeoplanInputError) as e:
        read_scenario(_write(tmp_path, text))
    msg = str(e.value)
    assert "s.toml" in msg and f"line {line}" in msg, msg
    for w in words:
        assert w in msg, msg


def test_missing_region_and_file(tmp_path):
    with pytest.raises(GeoplanInputError, match="does not exist"):
        read_scenario(_write(tmp_path, GOOD.replace(DEMO.as_posix(), "nowhere")))
    with pytest.raises(GeoplanInputError, match="not found"):
        read_scenario(tmp_path / "absent.toml")


def test_syntax_error_and_empty_question(tmp_path):
    with pytest.raises(GeoplanInputError, match="not valid TOML"):
        read_scenario(_write(tmp_path, GOOD + "\n[[model]\n"))
    with pytest.raises(GeoplanInputError, match="asks nothing"):
        read_scenario(_write(tmp_path, f'name = "x"\nregion = "{DEMO.as_posix()}"\n'))


def test_duplicate_names_and_kind_specific_needs(tmp_path):
    dup = GOOD + '\n[[model]]\nname = "fewest"\nkind = "p_median"\nmode = "drive"\n' \
                 'minutes = 30\np = 2\n'
    with pytest.raises(GeoplanInputError, match="two model entries"):
        read_scenario(_write(tmp_path, dup))
    no_p = GOOD + '\n[[model]]\nname = "mc"\nkind = "max_covering"\nmode = "drive"\nminutes = 30\n'
    with pytest.raises(GeoplanInputError, match="needs 'p' or 'budget'"):
        read_scenario(_write(tmp_path, no_p))
    assert {"set_covering", "max_covering", "p_median", "p_center", "beds_to_ratio",
            "function_centres", "tradeoff"} <= set(MODEL_KINDS)


RULES = GOOD.replace("unit_min_share = 0.85\n", 'unit_min_share = 0.85\n'
                     'force_open = ["S0151", "H001"]\nforce_closed = ["S0187"]\n'
                     'max_new_per_unit = { "990103" = 1, "990104" = 2 }\nverbose = true\n')


def test_site_rule_keys_are_read(tmp_path):
    from geoplan.scenario.spec import MODEL_KEYS
    m = read_scenario(_write(tmp_path, RULES)).models[0]
    assert m.force_open == ("S0151", "H001") and m.force_closed == ("S0187",)
    # ids written as numbers are ids too (a CSV id column of digits)
    assert check_model({**m.to_dict(), "force_open": ["S0151", 17]}).force_open == \
        ("S0151", "17")
    assert dict(m.max_new_per_unit) == {"990103": 1, "990104": 2} and m.verbose is True
    text = RULES.replace('{ "990103" = 1, "990104" = 2 }', "3")
    assert read_scenario(_write(tmp_path, text)).models[0].max_new_per_unit == 3
    for kind in MODEL_KINDS:
        # a tiered plan caps each tier's facilities by its counts, not per unit
        rules = {"force_open", "force_closed", "verbose"} | (
            set() if kind == "tiered" else {"max_new_per_unit"})
        assert rules <= set(MODEL_KEYS[kind])
    assert "max_new_per_unit" not in MODEL_KEYS["tiered"]


@pytest.mark.parametrize("old,new,words,line", [
    ('max_new_per_unit = { "990103" = 1, "990104" = 2 }', "max_new_per_unit = -1",
     ["max_new_per_unit", "negative"], 23),
    ('max_new_per_unit = { "990103" = 1, "990104" = 2 }',
     'max_new_per_unit = { "990103" = -1 }', ["max_new_per_unit", "unit 990103"], 23),
    ('max_new_per_unit = { "990103" = 1, "990104" = 2 }', "max_new_per_unit = 1.5",
     ["'max_new_per_unit' must be a whole number"], 23),
    ('max_new_per_unit = { "990103" = 1, "990104" = 2 }',
     'max_new_per_unit = { "990103" = "one" }', ["'max_new_per_unit' must be"], 23),
    ('force_open = ["S0151", "H001"]', 'force_open = "S0151"', ["'force_open' must be a list"],
     21),
    ('force_open = ["S0151", "H001"]', 'force_open = [1.5]', ["'force_open' must be a list"], 21),
    ('force_open = ["S0151", "H001"]', 'force_open = ["S0151", "X999"]',
     ["X999", "no facility or candidate site", "force_open"], 21),
    ('force_closed = ["S0187"]', 'force_closed = ["S0151"]',
     ["S0151", "both in force_open and force_closed"], 22),
    ('verbose = true', 'verbose = "yes"', ["'verbose' must be true or false"], 24),
    ('force_closed = ["S0187"]', 'force_close = ["S0187"]',
     ["unknown key 'force_close'"], 22),
])
def test_site_rule_errors_name_key_and_line(tmp_path, old, new, words, line):
    text = RULES.replace(old, new, 1)
    assert text != RULES
    with pytest.raises(GeoplanInputError) as e:
        read_scenario(_write(tmp_path, text))
    msg = str(e.value)
    assert "s.toml" in msg and f"line {line}" in msg, msg
    for w in words:
        assert w in msg, msg


def test_model_specs_are_typed_frozen_and_checked_again_when_changed(tmp_path):
    """Every [[model]] kind is a frozen dataclass whose fields are exactly its keys;
    a changed copy is validated as a table would be; ``to_dict`` gives the table back."""
    import dataclasses

    from geoplan import GeoplanInputError
    from geoplan.scenario.spec import (
        COVERAGE_KEYS,
        DERIVED_FIELDS,
        MODEL_KEYS,
        MODEL_SPECS,
        CoverageSpec,
        check_model,
    )
    for kind, cls in MODEL_SPECS.items():
        names = {f.name for f in dataclasses.fields(cls)} - {"keys"}
        assert names == set(MODEL_KEYS[kind]) | set(DERIVED_FIELDS.get(kind, ())), kind
    assert {f.name for f in dataclasses.fields(CoverageSpec)} - {"keys"} == set(COVERAGE_KEYS)
    m = check_model({"name": "a", "kind": "set_covering", "mode": "walk", "minutes": 15,
                     "candidate_types": ["x"]})
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.minutes = 10
    assert m.target_share == 1.0 and m.unit_min_share is None
    assert m.to_dict() == {"name": "a", "kind": "set_covering", "mode": "walk",
                           "minutes": 15, "candidate_types": ["x"], "level": "admin_code",
                           "target_share": 1.0}
    m2 = m.updated(target_share=0.9, verbose=True)
    assert m2.target_share == 0.9 and m2.verbose and m.target_share == 1.0
    with pytest.raises(GeoplanInputError, match="target_share"):
        m.updated(target_share=1.5)
    with pytest.raises(GeoplanInputError, match="unknown key 'p'"):
        m.updated(p=3)


TIERED = f"""
name = "tiers"
region = "{DEMO.as_posix()}"

[[model]]
name = "other"
kind = "max_covering"
candidate_types = ["community building"]
mode = "walk"
minutes = 15
p = 2

[[model]]
name = "system"
kind = "tiered"

[[model.tiers]]
name = "hub"
count = 1
mode = "drive"
minutes = 30
upgrade_types = ["三级医院"]

[[model.tiers]]
name = "point"
count = 3
mode = "walk"
minutes = 15
referral_minutes = 20
existing_types = ["community_health_station"]
candidate_types = ["village committee"]
"""


def test_tiered_model_reads_its_tiers_with_types_as_codes(tmp_path):
    m = read_scenario(_write(tmp_path, TIERED)).models[1]
    assert [t.name for t in m.tiers] == ["hub", "point"]
    assert m.tiers[0].upgrade_types == ("tertiary_hospital",)       # 三级医院, resolved
    assert m.tiers[1].counts == 3 and m.tiers[1].referral_minutes == 20
    assert m.to_dict()["tiers"][1]["candidate_types"] == ["village committee"]
    again = check_model(m.to_dict())                                 # round trip
    assert again == m


@pytest.mark.parametrize("old,new,words,line", [
    ('referral_minutes = 20\n', 'referral_minutes = 20\nbogus = 1\n',
     ["unknown key 'bogus'", "[[model]] #2 [[model.tiers]] #2"], 30),
    ('name = "hub"\ncount = 1\n', 'name = "hub"\ncount = 1\nreferral_minutes = 9\n',
     ["top tier", "referral_minutes"], 20),
    ('name = "point"\ncount = 3\n', 'name = "point"\n', ["needs count"], 24),
    ('name = "point"\ncount = 3\n', 'name = "point"\ncount = 3\ncount_max = 4\n',
     ["count and count_max"], 27),
    ('name = "point"\ncount = 3\n', 'name = "point"\ncount_min = 5\ncount_max = 4\n',
     ["count_min is more than count_max"], 26),
    ('minutes = 15\nreferral', 'urban_minutes = 15\nreferral', ["go together"], 28),
    ('minutes = 15\nreferral', 'minutes = 15\nurban_minutes = 9\nrural_minutes = 20\nreferral',
     ["one standard", "not both"], 28),
    ('existing_types = ["community_health_station"]\ncandidate_types = ["village committee"]\n',
     '', ["has no sites"], 24),
    ('existing_types = ["community_health_station"]',
     'existing_types = ["community_health_station"]\nupgrade_types = ["卫生站"]',
     ["unknown facility type '卫生站'", "upgrade_types"], 31),
    ('candidate_types = ["village committee"]', 'candidate_types = ["farm"]',
     ["no candidate sites of type(s) ['farm']", "[[model.tiers]] #2"], 31),
    ('name = "point"', 'name = "hub"', ["two tiers are named 'hub'"], 25),
    ('kind = "tiered"\n', 'kind = "tiered"\nobjective = "cost"\n', ["give min_share"], 16),
    ('kind = "tiered"\n', 'kind = "tiered"\nurban_levels = ["town"]\n',
     ["no tier has them"], 16),
    ('upgrade_types = ["三级医院"]', 'upgrade_types = ["三级医院"]\n'
     'existing_types = ["community_health_station"]', ["at two tiers today"], 31),
])
def test_tiered_errors_name_the_tier_key_and_line(tmp_path, old, new, words, line):
    _refused(tmp_path, TIERED, old, new, words, line)

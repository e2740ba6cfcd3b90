"""Travel profiles: defaults, overrides, maxspeed parsing and edge speeds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geoplan._errors import GeoplanInputError
from geoplan.travel.profiles import (
    default_profiles,
    edge_speed_kmh,
    get_profile,
    load_profiles,
    parse_maxspeed,
)


def test_default_modes_and_their_one_way_rules():
    profiles = default_profiles()
    assert set(profiles) >= {"walk", "ebike", "drive"}
    assert profiles["walk"].respect_oneway is False
    assert profiles["drive"].respect_oneway is True
    assert profiles["ebike"].respect_oneway is True


def test_walk_is_5_kmh_everywhere_pedestrians_are_allowed():
    walk = get_profile("walk")
    for hw in ("residential", "footway", "primary", "path", "service", "some_new_class"):
        assert edge_speed_kmh(walk, hw) == pytest.approx(5.0)
    for banned in ("motorway", "motorway_link", "trunk", "trunk_link"):
        assert edge_speed_kmh(walk, banned) == 0.0
    # not a way (yet or any more), or not a route across the map: nobody uses them
    lifecycle = ("construction", "proposed", "planned", "abandoned", "disused", "razed",
                 "platform", "raceway", "bus_guideway", "corridor", "elevator")
    for name in ("walk", "ebike", "drive"):
        for hw in lifecycle:
            assert edge_speed_kmh(get_profile(name), hw) == 0.0, (name, hw)
    # maxspeed is irrelevant to pedestrians
    assert edge_speed_kmh(walk, "primary", "3") == pytest.approx(5.0)


def test_ebike_speed_and_exclusions():
    ebike = get_profile("ebike")
    assert edge_speed_kmh(ebike, "residential") == pytest.approx(15.0)
    assert edge_speed_kmh(ebike, "footway") == pytest.approx(5.0)
    assert edge_speed_kmh(ebike, "motorway") == 0.0
    assert edge_speed_kmh(ebike, "steps") == 0.0


def test_drive_class_speeds_congestion_and_unusable_classes():
    drive = get_profile("drive")
    assert edge_speed_kmh(drive, "residential", congested=False) == pytest.approx(25.0)
    assert edge_speed_kmh(drive, "residential") == pytest.approx(25.0 * 0.8)
    assert edge_speed_kmh(drive, "motorway", congested=False) == pytest.approx(100.0)
    assert edge_speed_kmh(drive, "service") == pytest.approx(15.0)  # no congestion listed
    for no_car in ("footway", "path", "cycleway", "steps", "pedestrian", ""):
        assert edge_speed_kmh(drive, no_car) == 0.0


def test_drive_maxspeed_rule():
    drive = get_profile("drive")
    # tagged 60 on a primary: 60 * 0.85 = 51 < 50 * 1.2 = 60
    assert edge_speed_kmh(drive, "primary", "60", congested=False) == pytest.approx(51.0)
    # tagged 120 on a primary is capped at 1.2 x the class speed
    assert edge_speed_kmh(drive, "primary", "120", congested=False) == pytest.approx(60.0)
    # "none" and unparseable tags mean the class speed
    assert edge_speed_kmh(drive, "primary", "none", congested=False) == pytest.approx(50.0)
    assert edge_speed_kmh(drive, "primary", "signals", congested=False) == pytest.approx(50.0)
    # mph
    assert edge_speed_kmh(drive, "motorway", "50 mph", congested=False) == pytest.approx(
        50 * 1.609344 * 0.85)
    # congestion after maxspeed
    assert edge_speed_kmh(drive, "primary", "60") == pytest.approx(51.0 * 0.7)
    free = get_profile("drive", {"use_congestion": False})
    assert edge_speed_kmh(free, "primary", "60") == pytest.approx(51.0)


def test_highway_lists_use_every_class():
    drive = get_profile("drive")
    assert edge_speed_kmh(drive, ["primary", "secondary"], congested=False) == pytest.approx(40)
    assert edge_speed_kmh(drive, ["residential", "footway"]) == 0.0
    walk = get_profile("walk")
    assert edge_speed_kmh(walk, ["trunk", "primary"]) == 0.0
    assert edge_speed_kmh(walk, ["footway", "primary"]) == pytest.approx(5.0)


@pytest.mark.parametrize(("raw", "kmh"), [
    ("50", 50.0),
    ("50 km/h", 50.0),
    ("50kmh", 50.0),
    ("50 mph", 50 * 1.609344),
    ("20 knots", 20 * 1.852),
    ("30;50", 40.0),
    ("30|50", 40.0),
    (["50", "30"], 40.0),
    (["50 mph", "none"], 50 * 1.609344),
    ("12,5", 12.5),
    (60, 60.0),
    (60.0, 60.0),
])
def test_parse_maxspeed_values(raw, kmh):
    assert parse_maxspeed(raw) == pytest.approx(kmh)


@pytest.mark.parametrize("raw", [
    "none", "signals", "walk", "CN:urban", "", "  ", None, float("nan"), "0", 0, -5,
    ["none", "signals"], [], True,
])
def test_parse_maxspeed_no_number(raw):
    assert parse_maxspeed(raw) is None


@given(st.floats(1, 300), st.sampled_from(["", " km/h", " mph", "kph"]))
def test_parse_maxspeed_roundtrip(value, unit):
    text = f"{value:.3f}{unit}"
    factor = 1.609344 if "mph" in unit else 1.0
    assert parse_maxspeed(text) == pytest.approx(round(value, 3) * factor)


def test_unknown_mode_lists_known_modes():
    with pytest.raises(GeoplanInputError) as err:
        get_profile("helicopter")
    msg = str(err.value)
    assert "helicopter" in msg
    for mode in ("walk", "ebike", "drive"):
        assert mode in msg


def test_mode_names_are_case_insensitive():
    assert get_profile(" Drive ").name == "drive"


def test_overrides_merge_tables_key_by_key():
    drive = get_profile("drive", {"speeds_kmh": {"primary": 60.0}, "congestion": {}})
    assert drive.speeds_kmh["primary"] == 60.0
    assert drive.speeds_kmh["secondary"] == 40.0          # untouched
    assert drive.congestion["primary"] == 0.7             # tables merge, not replace
    default = get_profile("drive")
    assert default.speeds_kmh["primary"] == 50.0          # defaults not mutated
    assert drive.fingerprint != default.fingerprint
    assert get_profile("drive").fingerprint == default.fingerprint


def test_override_of_a_profile_object():
    ebike = get_profile(get_profile("ebike"), {"respect_oneway": False})
    assert ebike.name == "ebike" and ebike.respect_oneway is False


def test_load_profiles_mapping_new_mode_from_base():
    profiles = load_profiles({"scooter": {"base": "ebike", "default_speed_kmh": 20.0},
                              "WALK": {"default_speed_kmh": 4.0}})
    assert profiles["scooter"].default_speed_kmh == 20.0
    assert profiles["scooter"].respect_oneway is True
    assert profiles["walk"].default_speed_kmh == 4.0
    assert get_profile("scooter", profiles=profiles).name == "scooter"


def test_load_profiles_from_toml(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[drive]\nrespect_oneway = false\n[drive.speeds_kmh]\nresidential = 20.0\n',
                    "utf-8")
    drive = load_profiles(path)["drive"]
    assert drive.respect_oneway is False
    assert drive.speeds_kmh["residential"] == 20.0
    assert drive.speeds_kmh["primary"] == 50.0


@pytest.mark.parametrize(("overrides", "field"), [
    ({"drive": {"sped_kmh": 3}}, "sped_kmh"),
    ({"drive": {"speeds_kmh": {"primary": -1}}}, "drive.speeds_kmh.primary"),
    ({"drive": {"respect_oneway": "yes"}}, "drive.respect_oneway"),
    ({"drive": {"maxspeed_factor": 0}}, "drive.maxspeed_factor"),
    ({"drive": {"excluded_highways": "motorway"}}, "drive.excluded_highways"),
    ({"hover": {"default_speed_kmh": 3.0}}, "congestion"),  # first missing field
    ({"hover": {"base": "boat"}}, "base"),
])
def test_bad_overrides(overrides, field):
    with pytest.raises(GeoplanInputError) as err:
        load_profiles(overrides)
    assert err.value.field is not None and field in err.value.field


def test_bad_files(tmp_path):
    with pytest.raises(GeoplanInputError, match="file not found"):
        load_profiles(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[drive\n", "utf-8")
    with pytest.raises(GeoplanInputError, match="not a valid TOML"):
        load_profiles(bad)


def test_zero_speed_makes_class_unusable():
    drive = get_profile("drive", {"speeds_kmh": {"track": 0}})
    assert edge_speed_kmh(drive, "track") == 0.0
    assert math.isclose(edge_speed_kmh(drive, "service"), 15.0)

"""GCJ-02 / BD-09 conversions: known points, round trips across China, edge cases."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geoplan.inputs import chinacrs as cc

GEOD = Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_known_point_tiananmen():
    # Published Gaode/Baidu coordinates of Tiananmen for WGS-84 (116.391349, 39.907375)
    glon, glat = cc.wgs84_to_gcj02(116.391349, 39.907375)
    assert _metres(glon, glat, 116.397590, 39.908775) < 2.0
    blon, blat = cc.wgs84_to_bd09(116.391349, 39.907375)
    assert _metres(blon, blat, 116.403963, 39.915119) < 2.0


def test_offset_is_hundreds_of_metres_in_china_and_zero_outside():
    lon, lat = cc.wgs84_to_gcj02([114.3, 2.35], [30.05, 48.85])  # Hubei; Paris
    shift = _metres([114.3, 2.35], [30.05, 48.85], lon, lat)
    assert 100 < shift[0] < 1000
    assert shift[1] == 0.0


def test_round_trip_below_one_metre_across_china():
    lon, lat = np.meshgrid(np.linspace(73.5, 135.0, 240), np.linspace(18.0, 53.5, 160))
    for fwd, inv in ((cc.wgs84_to_gcj02, cc.gcj02_to_wgs84), (cc.wgs84_to_bd09, cc.bd09_to_wgs84)):
        back = inv(*fwd(lon, lat))
        err = _metres(lon.ravel(), lat.ravel(), back[0].ravel(), back[1].ravel())
        assert err.max() < 1.0
        assert err.max() < 0.01  # the documented accuracy (1e-10 degrees)


@settings(max_examples=200, deadline=None)
@given(st.floats(72.1, 137.7), st.floats(0.9, 55.7))
def test_inverse_is_exact_on_random_points(lon, lat):
    g = cc.wgs84_to_gcj02(lon, lat)
    w = cc.gcj02_to_wgs84(*g)
    assert _metres(lon, lat, w[0], w[1]) < 0.01
    b = cc.gcj02_to_bd09(*g)
    g2 = cc.bd09_to_gcj02(*b)
    assert _metres(g[0], g[1], g2[0], g2[1]) < 0.01


def test_to_wgs84_accepts_aliases():
    g = cc.wgs84_to_gcj02(114.3, 30.05)
    for name in ("gcj02", "GCJ-02", "gaode", "amap"):
        w = cc.to_wgs84(*g, name)
        assert _metres(114.3, 30.05, *w) < 0.01
    b = cc.wgs84_to_bd09(114.3, 30.05)
    assert _metres(114.3, 30.05, *cc.to_wgs84(*b, "baidu")) < 0.01

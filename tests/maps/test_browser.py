"""Maps and reports opened in headless Chromium from file:// with the network disabled.

Each page must load without JavaScript errors, create its Leaflet map, list the expected
layers in the layer control, draw markers and polygons, and render a non-blank
screenshot (kept under ``test-artifacts/browser/``). The browser and the skip rules are in
``tests/browser_pages.py`` (session fixture ``browser`` of ``conftest.py``); every page of
the shipped scenarios is opened by ``tests/scenario/test_scenario_run.py``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from browser_pages import STATE, WORDS
from browser_pages import open_page as _open
from browser_pages import screenshot as _screenshot
from maps_fixtures import coverage_inputs, demo, plan_inputs

from geoplan.inputs.chinacrs import wgs84_to_gcj02
from geoplan.maps import canvas as maps
from geoplan.maps import report

@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Write the demo pages: coverage map (OSM), plan map (Gaode, zh), report, GCJ probes."""
    out = tmp_path_factory.mktemp("pages")
    made = {}
    cov = maps.build_map(coverage_inputs(), title="Qingshan: 10/15-minute coverage",
                         subtitle="e-bike", lang="en", basemap="osm")
    made["coverage"] = (maps.save_map(cov, out / "coverage.html"), cov)
    plan = maps.build_map(plan_inputs(), title="医保服务圈规划", lang="zh", basemap="gaode")
    made["plan"] = (maps.save_map(plan, out / "plan.html"), plan)
    d = demo()
    files = report.write_report(report.ReportInputs(
        title="Report", region=d.region, plans={"max covering": d.plan},
        maps={"Coverage": cov}), out / "report", xlsx=False)
    made["report"] = (files.html, cov)
    fac = d.region.facilities.iloc[[0]]
    for base in ("osm", "gaode"):
        canvas = maps.new_map(fac.buffer(2000), title=base, basemap=base)
        maps.add_facilities(canvas, fac)
        made[f"probe_{base}"] = (maps.save_map(canvas, out / f"probe_{base}.html"), canvas)
    return made


def test_coverage_map_in_browser(browser, pages) -> None:
    path, canvas = pages["coverage"]
    state, seconds = _open(browser, path, "coverage_map", drawn=0.3)
    print(f"\ndemo coverage map: {path.stat().st_size / 1e6:.2f} MB, opened in {seconds:.2f} s")
    assert state["leaflet"] and state["scale"] == 1
    assert [name for name, _ in state["overlays"]] == canvas.layers
    assert state["markers"] >= len(demo().region.facilities)  # + gap rank labels
    assert state["paths"] > 20 and state["images"] == 1
    assert state["title"].startswith("Qingshan")


def test_plan_map_before_after_switch(browser, pages) -> None:
    path, canvas = pages["plan"]
    state, _ = _open(browser, path, "plan_map_after", drawn=0.3)
    assert state["leaflet"]
    on = dict(state["overlays"])
    assert list(on) == canvas.layers
    n_fac = len(demo().region.facilities)
    assert on["规划：新增站点（5）"] and on["规划后：15分钟覆盖范围"]
    assert not on["规划前：15分钟覆盖范围"]
    assert state["markers"] == n_fac + 5 + 2 + 2  # new sites, upgraded, their +beds labels
    browser.find_element("css selector", 'input[name="gp-when"][value="before"]').click()
    before = browser.execute_script(STATE)
    on = dict(before["overlays"])
    assert on["规划前：15分钟覆盖范围"] and not on["规划后：15分钟覆盖范围"]
    assert not on["规划：新增站点（5）"] and before["markers"] == n_fac
    _screenshot(browser, "plan_map_before", drawn=0.3)
    browser.find_element("css selector", 'input[name="gp-when"][value="after"]').click()
    again = browser.execute_script(STATE)
    assert again["markers"] == state["markers"] and again["errors"] == []


def test_report_with_embedded_map_in_browser(browser, pages) -> None:
    path, canvas = pages["report"]
    _open(browser, path, "report")
    inner = browser.execute_script("""
        var f = document.querySelector('iframe.map'); var w = f.contentWindow;
        return {leaflet: !!w.geoplanMap && w.geoplanMap instanceof w.L.Map,
                errors: w.__errors || null,
                overlays: Array.from(f.contentDocument.querySelectorAll(
                  '.leaflet-control-layers-overlays label')).map(l => l.textContent.trim()),
                markers: f.contentDocument.querySelectorAll('.leaflet-marker-icon').length,
                svg: document.querySelectorAll('section svg').length};""")
    assert inner["leaflet"] and inner["errors"] == []
    assert inner["overlays"] == canvas.layers and inner["markers"] > 200


def test_point_on_gaode_is_shifted_by_gcj02_and_on_osm_not(browser, pages) -> None:
    fac = demo().region.facilities.iloc[[0]]
    lon, lat = (float(v) for v in gpd.GeoSeries(fac.geometry).to_crs(4326).iloc[0].coords[0])
    glon, glat = (float(v) for v in wgs84_to_gcj02(lon, lat))
    drawn = {}
    for base in ("osm", "gaode"):
        path, _ = pages[f"probe_{base}"]
        state, _ = _open(browser, path, f"gcj02_probe_{base}")
        assert state["leaflet"] and state["markers"] == 1
        drawn[base] = browser.execute_script("""
            var out = null;
            window.geoplanMap.eachLayer(function (l) {
              if (l.feature && l.getLatLng) { var p = l.getLatLng(); out = [p.lng, p.lat]; }
            });
            return out;""")
    assert drawn["osm"] == pytest.approx([lon, lat], abs=2e-6)
    assert drawn["gaode"] == pytest.approx([glon, glat], abs=2e-6)
    shift = np.hypot((glon - lon) * 96_000, (glat - lat) * 111_000)
    assert 100 < shift < 1000  # metres: the GCJ-02 offset near Wuhan is a few hundred m


def test_chinese_maps_show_no_english(browser, zh_run) -> None:
    """Every map of a Chinese run, as the browser shows it (layer list, legend, title,
    scale bar, toggle, and every popup and tooltip of every layer turned on), carries no
    English word geoplan wrote: only proper names and the user's own data values."""
    from zh_pages import data_values, english_words

    from geoplan.inputs.region import load_region

    allowed = data_values(load_region(demo_dir_path()))
    _, out = zh_run
    pages = sorted(out.glob("map_*.html"))
    assert len(pages) >= 6
    leaks = {}
    for path in pages:
        _open(browser, path, f"zh_{path.stem}")
        browser.execute_script("""document.querySelectorAll(
            '.leaflet-control-layers-overlays input').forEach(function (i) {
              if (!i.checked) { i.click(); } });""")
        for text in browser.execute_script(WORDS):
            words = english_words(text, allowed)
            if words:
                leaks.setdefault(path.name, set()).update(words)
    assert not leaks, f"English on Chinese maps: {leaks}"


def demo_dir_path() -> Path:
    from conftest import DEMO

    return DEMO



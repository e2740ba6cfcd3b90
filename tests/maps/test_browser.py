"""Maps and reports opened in headless Chromium from file:// with the network disabled.

Each page must load without JavaScript errors, create its Leaflet map, list the expected
layers in the layer control, draw markers and polygons, and render a non-blank
screenshot (kept under ``test-artifacts/browser/``). The tests skip, saying why, only
where Chromium, its driver or selenium is not installed; an installed Chromium that does not
start fails them. ``.ci/run`` installs the Debian packages ``chromium`` and
``chromium-driver`` and fails when it cannot, so CI never passes without the browser tests.
"""

from __future__ import annotations

import io
import shutil
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from maps_fixtures import coverage_inputs, demo, plan_inputs

from geoplan.inputs.chinacrs import wgs84_to_gcj02
from geoplan.maps import canvas as maps
from geoplan.maps import report

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser",
                                                "google-chrome")) if p), None)
DRIVER = shutil.which("chromedriver") or next(
    (p for p in ("/usr/lib/chromium/chromedriver", "/usr/bin/chromedriver")
     if Path(p).exists()), None)
webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install '.[test]')")
if CHROMIUM is None or DRIVER is None:
    pytest.skip("headless Chromium is not installed: apt-get install chromium chromium-driver",
                allow_module_level=True)

_CATCH_ERRORS = """
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
window.addEventListener('unhandledrejection', function (e) {
  window.__errors.push(String(e.reason)); });
"""

_STATE = """
var m = window.geoplanMap;
var labels = Array.from(document.querySelectorAll(
  '.leaflet-control-layers-overlays label')).map(function (l) {
    return [l.textContent.trim(), l.querySelector('input').checked]; });
return {leaflet: typeof L === 'object' && !!m && m instanceof L.Map,
        errors: window.__errors || [], overlays: labels,
        markers: document.querySelectorAll('.leaflet-marker-icon').length,
        paths: document.querySelectorAll('path.leaflet-interactive').length,
        images: document.querySelectorAll('img.leaflet-image-layer').length,
        scale: document.querySelectorAll('.leaflet-control-scale').length,
        title: (document.querySelector('.gp-title') || {}).textContent || ''};
"""


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module, offline (proxy to a dead port + CDP offline)."""
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--proxy-server=127.0.0.1:9",
                "--proxy-bypass-list=<-loopback>", "--disable-extensions"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    except Exception as exc:  # noqa: BLE001 - an installed browser that cannot start is a failure
        pytest.fail(f"headless Chromium is installed but did not start: "
                    f"{str(exc).splitlines()[0]}")
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _CATCH_ERRORS})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


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


def _open(driver, path: Path, name: str, drawn: float = 0.02) -> tuple[dict, float]:
    driver.get_log("browser")  # drop earlier entries
    start = time.perf_counter()
    driver.get(path.as_uri())
    state = driver.execute_script(_STATE)
    seconds = time.perf_counter() - start
    logs = [e for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and e.get("source") != "network"]
    assert logs == [], f"console errors in {name}: {logs}"
    assert state["errors"] == [], f"JavaScript errors in {name}: {state['errors']}"
    _screenshot(driver, name, drawn)
    return state, seconds


def _screenshot(driver, name: str, drawn: float = 0.02) -> None:
    """Save a screenshot; fail if under ``drawn`` of it differs from the background."""
    from PIL import Image

    png = driver.get_screenshot_as_png()
    (ARTIFACTS / f"{name}.png").write_bytes(png)
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    share = 1.0 - counts.max() / len(pixels)
    assert len(colours) > 50 and share > drawn, f"screenshot of {name} looks blank ({share:.1%})"


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
    before = browser.execute_script(_STATE)
    on = dict(before["overlays"])
    assert on["规划前：15分钟覆盖范围"] and not on["规划后：15分钟覆盖范围"]
    assert not on["规划：新增站点（5）"] and before["markers"] == n_fac
    _screenshot(browser, "plan_map_before", drawn=0.3)
    browser.find_element("css selector", 'input[name="gp-when"][value="after"]').click()
    again = browser.execute_script(_STATE)
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


_WORDS = """
var out = [document.body.innerText];
window.geoplanMap.eachLayer(function (l) {
  var p = l.feature && l.feature.properties;
  if (!p) { return; }
  var d = document.createElement('div');
  if (p._p) { d.innerHTML = p._p; out.push(d.textContent); }
  if (p._t) { out.push(String(p._t)); }
});
var when = document.querySelector('.gp-toggle');
if (when) { out.push(when.textContent); }
return out;
"""


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
        for text in browser.execute_script(_WORDS):
            words = english_words(text, allowed)
            if words:
                leaks.setdefault(path.name, set()).update(words)
    assert not leaks, f"English on Chinese maps: {leaks}"


def demo_dir_path() -> Path:
    from conftest import DEMO

    return DEMO


# ------------------------------------------------------- every shipped page, offline

_LABEL_BOXES = """
var c = window.geoplanMap.getContainer().getBoundingClientRect(), out = [];
document.querySelectorAll('.gp-label span, .gp-place span').forEach(function (s) {
  if (s.style.visibility === 'hidden') { return; }
  var r = s.getBoundingClientRect();
  if (!r.width || r.right < c.left || r.left > c.right || r.bottom < c.top
      || r.top > c.bottom) { return; }
  out.push([r.left, r.top, r.right, r.bottom, s.textContent,
            s.parentElement.className]);
});
return out;
"""

_BASE = """
var checked = Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))
  .filter(function (l) { return l.querySelector('input').checked; })
  .map(function (l) { return l.textContent.trim(); });
return {base: checked, notice: (document.querySelector('.gp-notice') || {}).textContent || '',
        roads: document.querySelectorAll('.leaflet-gpBase-pane path').length,
        places: document.querySelectorAll('.gp-place').length,
        villages: document.querySelectorAll('.gp-place.gp-minor').length};
"""


def _overlapping(boxes: list) -> list:
    """Pairs of label boxes that overlap (by more than a pixel's rounding)."""
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 \
                    and b[1] < a[3] - 0.5:
                out.append((a[4], b[4]))
    return out


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """Every shipped demo scenario, run with its maps and report (as `geoplan run`)."""
    import tomllib

    from conftest import DEMO

    from geoplan.scenario.run import run_scenario

    out = tmp_path_factory.mktemp("shipped")
    cache: dict = {}
    runs = []
    for f in sorted((DEMO / "scenarios").glob("*.toml")):
        run_scenario(f, output=out / f.stem, region_cache=cache)
        runs.append((f.stem, out / f.stem, tomllib.loads(f.read_text(encoding="utf-8"))))
    return runs


def _expected_layers(spec: dict, summary: dict, out: Path, page: str) -> list[str]:
    """The overlays a shipped plan map must have on when it opens, from the scenario file
    and the run's own files (not from the page): the standard as the model used it and
    the gaps it leaves (covering models), its worst-served residents (p-center)."""
    from geoplan import labels
    from geoplan.optimize.figures import COVERING_MODELS

    models = {m["name"]: m for m in spec.get("model", [])}
    name = page.removeprefix("map_")
    if name not in models:
        return []
    m = models[name]
    fig = next(x for x in summary["models"] if x["name"] == name)
    want = []
    if fig["model"] in COVERING_MODELS:
        std = sorted({float(m[k]) for k in ("urban_minutes", "rural_minutes") if k in m}
                     or {float(m["minutes"])})
        want.append(labels.text("map.standard_after", "zh", std=labels.text(
            "map.standard_min", "zh", m="/".join(f"{v:g}" for v in std))))
        gaps = gpd.read_file(out / f"plan_{name}_gaps_after.gpkg")
        if len(gaps):
            want.append(labels.text("map.gaps_after", "zh"))
    elif fig["model"] == "p_center":
        want.append(labels.text("map.worst_after", "zh", m="")[:-4])   # "... (≥"
    return want


def test_every_shipped_page_offline(browser, shipped) -> None:
    """Every map and report page `geoplan run` writes for the shipped scenarios, opened
    offline: no JavaScript error; the tiles fail, so the page switches to the region's own
    roads and says so; the plan maps show the standard each model used and the gaps it
    leaves (p-center: its farthest residents); no two labels overlap, at the opening view
    and zoomed to street level in the city centre (villages labelled there); Chinese pages
    carry no English word. Screenshots: test-artifacts/browser/shipped_*.png."""
    import json

    from zh_pages import data_values, english_words, page_text

    from geoplan import labels
    from geoplan.inputs.osm import places_of
    from geoplan.inputs.region import load_region

    region = load_region(demo_dir_path())
    allowed = data_values(region)
    centre = places_of(region.network).query("place == 'city'").geometry.iloc[0]
    notice = labels.text("map.tiles_unavailable_roads", "zh")
    roads_name = labels.text("map.basemap_roads", "zh")
    pages = 0
    for stem, out, spec in shipped:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        # the scenario's own Chinese texts ("p中心模型") are the user's words
        own = [t.get(k, "") for t in (spec, *spec.get("model", []), *spec.get("coverage", []))
               for k in ("name_zh", "description_zh")]
        allowed_here = sorted({*allowed, *own, f"{stem}.toml"} - {""}, key=len, reverse=True)
        maps_ = sorted(out.glob("map_*.html"))
        assert maps_, stem
        for path in maps_:
            name = f"shipped_{stem}_{path.stem}"
            state, _ = _open(browser, path, name, drawn=0.3)
            for _ in range(50):                      # the tiles fail within a moment
                base = browser.execute_script(_BASE)
                if base["notice"]:
                    break
                time.sleep(0.1)
            assert base["notice"] == notice, (name, base)
            assert base["base"] == [roads_name] and base["roads"] >= 6, (name, base)
            assert base["places"] >= 11, (name, base)     # the city and its 10 towns
            on = {k for k, v in state["overlays"] if v}
            for layer in _expected_layers(spec, summary, out, path.stem):
                assert any(o.startswith(layer) for o in on), (name, layer, sorted(on))
            time.sleep(0.2)
            boxes = browser.execute_script(_LABEL_BOXES)
            assert boxes and not _overlapping(boxes), (name, _overlapping(boxes))
            browser.execute_script(f"window.geoplanMap.setView([{centre.y}, {centre.x}], 14,"
                                   " {animate: false});")
            time.sleep(0.4)
            street = browser.execute_script(_LABEL_BOXES)
            assert not _overlapping(street), (name, _overlapping(street))
            assert browser.execute_script(_BASE)["villages"] > 0, name
            _screenshot(browser, f"{name}_centre", drawn=0.3)
            leaks = set()
            for text in browser.execute_script(_WORDS):
                leaks.update(english_words(text, allowed_here))
            assert not leaks, (name, leaks)
            pages += 1
        report_html = out / "report" / "report.html"
        _open(browser, report_html, f"shipped_{stem}_report")
        frames = browser.execute_script("""return Array.from(document.querySelectorAll(
            'iframe.map')).map(function (f) { var w = f.contentWindow;
              return !!w.geoplanMap && (w.__errors || []).length === 0; });""")
        assert frames and all(frames), (stem, frames)
        words = [w for part in page_text(report_html.read_text(encoding="utf-8"))
                 for w in english_words(part, allowed_here)]
        assert not words, (stem, words)
        pages += 1
    assert pages >= 15

"""Headless Chromium for the browser tests: start it offline, open a page, check it.

Shared by ``tests/maps/test_browser.py`` and the shipped-scenario pages of
``tests/scenario/test_scenario_run.py`` through the session fixture ``browser`` of
``conftest.py`` (one browser per test worker). The tests skip, saying why, only where
Chromium, its driver or selenium is not installed; an installed Chromium that does not start
fails them. ``.ci/run`` installs the Debian packages ``chromium`` and ``chromium-driver`` and
fails when it cannot, so CI never passes without the browser tests.
"""

from __future__ import annotations

import io
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser",
                                                "google-chrome")) if p), None)
DRIVER = shutil.which("chromedriver") or next(
    (p for p in ("/usr/lib/chromium/chromedriver", "/usr/bin/chromedriver")
     if Path(p).exists()), None)


def missing() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    try:
        import selenium.webdriver  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install '.[test]')"
    if CHROMIUM is None or DRIVER is None:
        return "headless Chromium is not installed: apt-get install chromium chromium-driver"
    return None


_CATCH_ERRORS = """
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
window.addEventListener('unhandledrejection', function (e) {
  window.__errors.push(String(e.reason)); });
"""

STATE = """
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


def start_browser():
    """Yield a headless Chromium, offline (proxy to a dead port + CDP offline); skip the
    test when none is installed."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
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


def open_page(driver, path: Path, name: str, drawn: float = 0.02) -> tuple[dict, float]:
    driver.get_log("browser")  # drop earlier entries
    start = time.perf_counter()
    driver.get(path.as_uri())
    state = driver.execute_script(STATE)
    seconds = time.perf_counter() - start
    logs = [e for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and e.get("source") != "network"]
    assert logs == [], f"console errors in {name}: {logs}"
    assert state["errors"] == [], f"JavaScript errors in {name}: {state['errors']}"
    screenshot(driver, name, drawn)
    return state, seconds


def screenshot(driver, name: str, drawn: float = 0.02) -> None:
    """Save a screenshot; fail if under ``drawn`` of it differs from the background."""
    from PIL import Image

    png = driver.get_screenshot_as_png()
    (ARTIFACTS / f"{name}.png").write_bytes(png)
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    share = 1.0 - counts.max() / len(pixels)
    assert len(colours) > 50 and share > drawn, f"screenshot of {name} looks blank ({share:.1%})"


WORDS = """
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




def ink(png: Path) -> float:
    """Share of pixels of an image that are not (near) white."""
    from PIL import Image

    a = np.asarray(Image.open(png).convert("L"), dtype=float)
    return float((a < 235).mean())


def pdf_pages(pdf: Path, folder: Path) -> list[Path]:
    """Every page of ``pdf`` rendered to a PNG (poppler's pdftoppm, 30 dpi)."""
    import subprocess

    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(folder / "page")],
                   check=True)
    return sorted(folder.glob("page*.png"))

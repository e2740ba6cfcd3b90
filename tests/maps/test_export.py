"""Printed reports and map images: a committee's PDF and a slide's PNG, rendered for real.

Headless Chromium prints the report (A4, the page's print stylesheet) and screenshots a
map; poppler's ``pdftoppm`` renders every printed page back to pixels, and each page must
hold ink (not blank). Skipped where Chromium or pdftoppm are not installed; CI installs
both (``.ci/run``), so a green CI run includes these tests.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from maps_fixtures import demo, plan_inputs, run_map_cli
from PIL import Image

from geoplan import GeoplanInputError
from geoplan.maps import canvas as maps
from geoplan.maps import report
from geoplan.maps.export import find_chromium, html_to_pdf, html_to_png

if not any(map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))) \
        or shutil.which("pdftoppm") is None:
    pytest.skip("headless Chromium and poppler's pdftoppm are needed: apt-get install "
                "chromium poppler-utils", allow_module_level=True)


def _ink(png: Path) -> float:
    """Share of pixels that are not (near) white."""
    a = np.asarray(Image.open(png).convert("L"), dtype=float)
    return float((a < 235).mean())


def _pages(pdf: Path, tmp: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp / "page")], check=True)
    return sorted(tmp.glob("page*.png"))


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    d = demo()
    out = tmp_path_factory.mktemp("print")
    canvas = maps.build_map(plan_inputs(), title="Plan map", basemap="none")
    files = report.write_report(report.ReportInputs(
        title="Insurance 15-minute circle", region=d.region, plans={"max covering": d.plan},
        maps={"Plan map": canvas}), out / "rep")
    return files.html, html_to_pdf(files.html, out / "rep" / "report.pdf"), out


def test_report_prints_to_a4_pages_that_all_hold_ink(printed):
    _, pdf, out = printed
    assert pdf.read_bytes()[:5] == b"%PDF-"
    pages = _pages(pdf, out)
    assert len(pages) >= 2                                   # summary, tables, map
    for p in pages:
        w, h = Image.open(p).size
        assert h / w == pytest.approx(297 / 210, rel=0.02)   # A4 portrait
        assert _ink(p) > 0.005, f"{p.name} is blank"


def test_map_exports_to_png_at_the_size_asked(tmp_path):
    page = maps.save_map(maps.build_map(plan_inputs(), title="Plan map", basemap="none"),
                         tmp_path / "m.html")
    png = html_to_png(page, tmp_path / "m.png", width=1200, height=800)
    img = Image.open(png)
    assert img.size == (1200, 800)
    assert _ink(png) > 0.05                   # the county, its grid and legend are drawn
    with pytest.raises(GeoplanInputError, match="whole number of pixels"):
        html_to_png(page, tmp_path / "x.png", width=50, height=800)


def test_cli_report_pdf_and_map_png(tmp_path, monkeypatch, capsys):
    assert run_map_cli(["report", "demo", "--mode", "ebike", "--out", str(tmp_path / "rep"),
                        "--pdf"], monkeypatch) == 0
    assert (tmp_path / "rep" / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert run_map_cli(["map", "demo", "--mode", "ebike", "--out", str(tmp_path / "maps"),
                        "--name", "m", "--png", "1000x700", "--basemap", "none"],
                       monkeypatch) == 0
    assert Image.open(tmp_path / "maps" / "m.png").size == (1000, 700)
    out = capsys.readouterr().out
    assert "PDF written" in out and "image written" in out
    with pytest.raises(GeoplanInputError, match="--png"):
        run_map_cli(["map", "demo", "--out", str(tmp_path / "maps"), "--png", "big"],
                    monkeypatch)


def test_a_missing_browser_is_said_with_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOPLAN_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(GeoplanInputError, match="GEOPLAN_CHROMIUM.*not an executable"):
        find_chromium()
    monkeypatch.delenv("GEOPLAN_CHROMIUM")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GeoplanInputError, match="apt-get install chromium"):
        find_chromium()
    # the command says so before any work, and writes nothing
    with pytest.raises(GeoplanInputError, match="none was found"):
        run_map_cli(["report", "demo", "--out", str(tmp_path / "rep"), "--pdf"], monkeypatch)
    assert not (tmp_path / "rep").exists()


def test_a_scenario_prints_its_report_and_refuses_pdf_without_one(tmp_path, monkeypatch):
    from conftest import DEMO

    from geoplan.scenario.spec import read_scenario
    text = (f'name = "p"\nregion = "{DEMO.as_posix()}"\npdf = true\nreport = false\n'
            '[[coverage]]\nname = "c"\ntypes = ["emergency_station"]\nmodes = ["drive"]\n'
            "minutes = [12]\n")
    p = tmp_path / "s.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(GeoplanInputError, match=r"line 3.*report = false"):
        read_scenario(p)
    p.write_text(text.replace("report = false\n", "maps = false\n"), encoding="utf-8")
    assert read_scenario(p).pdf
    from geoplan.scenario.run import run_scenario
    run_scenario(p, output=tmp_path / "out")
    assert (tmp_path / "out" / "report" / "report.pdf").read_bytes()[:5] == b"%PDF-"
    monkeypatch.setenv("GEOPLAN_CHROMIUM", str(tmp_path / "none"))
    with pytest.raises(GeoplanInputError, match=r"s.toml, line 3.*field 'pdf'"):
        read_scenario(p)


def _fake_browser(tmp_path, body: str) -> Path:
    exe = tmp_path / "fake-chromium"
    exe.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    exe.chmod(0o755)
    return exe


@pytest.mark.parametrize(("body", "words"), [
    ("echo 'renderer crashed' >&2; exit 3", "the browser failed (exit 3: renderer crashed)"),
    ("exit 0", "the browser wrote nothing"),
    ("sleep 5", "did not finish in 1 s"),
])
def test_a_browser_that_fails_writes_nothing_and_says_so(tmp_path, monkeypatch, printed,
                                                         body, words):
    page = printed[0]
    monkeypatch.setenv("GEOPLAN_CHROMIUM", str(_fake_browser(tmp_path, body)))
    with pytest.raises(GeoplanInputError, match=re.escape(words)):
        html_to_pdf(page, tmp_path / "r.pdf", timeout=1)
    assert not (tmp_path / "r.pdf").exists()
    assert not list(tmp_path.glob(".r.*"))                 # no temporary file left

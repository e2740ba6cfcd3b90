"""A Chinese scenario run with every model kind, and a detector of English words in pages.

Used by ``tests/test_labels.py`` (report page, workbook, terminal tables) and
``tests/maps/test_browser.py`` (maps, as the browser shows them). The rule checked: a page
in Chinese carries no English word that geoplan wrote. Words allowed are proper names
(:data:`PROPER`) and the values of the user's own input files (facility, candidate and
unit names and ids, candidate site types, the scenario file name), which geoplan shows as
given.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from conftest import DEMO

SCENARIO = f"""
name = "zh pages"
name_zh = "中文页面"
description = "Every model kind on the demo, in Chinese."
description_zh = "演示数据上的全部模型，中文页面。"
region = "{DEMO.as_posix()}"
language = "zh"

[[coverage]]
name = "insurance"
name_zh = "现状医保服务点覆盖"
types = ["insurance_service_point"]
modes = ["walk", "ebike"]
minutes = [15]

[[coverage]]
name = "emergency"
types = ["emergency_station"]
modes = ["drive"]
minutes = [12, 20]

[[model]]
name = "fewest_points"
kind = "set_covering"
existing_types = ["insurance_service_point"]
candidate_types = ["community building", "village committee", "township land"]
mode = "ebike"
minutes = 15
target_share = 0.9
time_limit = 20

[[model]]
name = "points_3"
name_zh = "新增3个服务点"
kind = "max_covering"
existing_types = ["insurance_service_point"]
candidate_types = ["community building", "village committee", "township land"]
mode = "ebike"
minutes = 15
p = 3

[[model]]
name = "curve"
kind = "tradeoff"
existing_types = ["insurance_service_point"]
candidate_types = ["community building", "village committee", "township land"]
mode = "ebike"
minutes = 15
p_max = 3
time_limit = 10

[[model]]
name = "upgrade_median"
kind = "p_median"
existing_types = ["rural_regional_centre"]
upgrade_types = ["township_health_centre"]
demand_levels = ["town"]
mode = "drive"
minutes = 60
p = 2

[[model]]
name = "stations"
kind = "p_center"
existing_types = ["emergency_station"]
candidate_types = ["community building", "village committee", "township land"]
mode = "drive"
minutes = 40
urban_minutes = 12
rural_minutes = 20
target_share = 0.9
time_limit = 20

[[model]]
name = "beds"
kind = "beds_to_ratio"
level = "district_code"
ratio = 7.0
hospital_types = ["tertiary_hospital", "secondary_hospital", "township_health_centre"]
cost_per_bed = 60.0
max_add_share = 0.5
new_site_types = ["township land"]
new_site_fixed_cost = 8000.0
new_site_min_beds = 100
new_site_max_beds = 500

[[model]]
name = "centres"
kind = "function_centres"
centre_types = ["endoscopy", "rehabilitation_pain"]
host_types = ["tertiary_hospital", "secondary_hospital", "township_health_centre"]
mode = "drive"
minutes = 30
total = 4
"""

#: Proper names and units a Chinese page may carry in Latin letters.
PROPER = {"geoplan", "OpenStreetMap", "OSM", "HiGHS", "CBC", "Leaflet", "AutoNavi", "Gaode",
          "GCJ", "WGS", "CSV", "XLSX", "km", "m", "contributors", "Benders"}

_WORD = re.compile(r"[A-Za-z][A-Za-z_]*")


def data_values(region) -> list[str]:
    """Strings of the user's input files that pages show as given, longest first."""
    values: set[str] = set()
    for layer, cols in ((region.facilities, ("id", "name")),
                        # not site_type: its common categories read in Chinese
                        (region.candidates, ("id", "name")),
                        (region.boundaries, ("admin_code", "admin_name", "district_code",
                                             "district_name", "town_code", "town_name"))):
        if layer is None:
            continue
        for c in cols:
            if c in layer.columns:
                values |= {str(v) for v in layer[c].dropna().unique()}
    return sorted(values, key=len, reverse=True)


def english_words(text: str, allowed: list[str] = ()) -> list[str]:
    """English words in ``text`` once the ``allowed`` data values and proper names are
    taken out (solver versions such as "HiGHS 1.7.2" count as proper names)."""
    for v in allowed:
        if v and v in text:
            text = text.replace(v, " ")
    return [w for w in _WORD.findall(text) if w not in PROPER]


class _Text(HTMLParser):
    """Text nodes and ``title``/``alt`` attributes of a page, without scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for k, v in attrs:
            if k in ("title", "alt", "aria-label") and v:
                self.parts.append(v)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def page_text(html: str) -> list[str]:
    """Visible text of an HTML page (an ``<iframe srcdoc>`` is a page of its own and is
    left out: maps are checked in the browser)."""
    p = _Text()
    p.feed(html)
    return p.parts


def run_zh_pages(out: Path):
    """Run :data:`SCENARIO` into ``out``; return (RunResult, its output folder)."""
    from geoplan.scenario.run import run_scenario

    path = out / "zh_pages.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    res = run_scenario(path, output=out / "run")
    return res, out / "run"

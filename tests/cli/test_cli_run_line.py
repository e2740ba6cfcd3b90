"""geoplan run's line per plan: the figures of summary.json, with units, in the language."""

from __future__ import annotations

from geoplan.cli.main import _plan_line

BEDS = {"name": "beds_to_7", "status": "optimal", "gap": 0.0, "objective": 153180.0,
        "figures": {"new_sites": 3, "upgraded_sites": 9, "beds_added": 2153.0,
                    "cost": 153180.0, "units_met": 4, "units": 4}}
CENTER = {"name": "p16", "status": "time_limit", "gap": 0.0123, "objective": 38.72,
          "figures": {"new_sites": 16, "worst_minutes": 38.72, "beyond_cutoff": 6478.5}}


def test_zh_line_has_units_and_no_objective():
    line = ", ".join(_plan_line(BEDS, "zh"))
    assert "153,180 万元" in line and "2,153 张" in line and "4 个 / 4" in line
    assert "objective" not in line and "最优" in line
    line = ", ".join(_plan_line(CENTER, "zh"))
    assert "38.7 分钟" in line and "1.23%" in line


def test_en_line():
    line = ", ".join(_plan_line(CENTER, "en"))
    assert "Longest travel time to the nearest site 38.7 min" in line
    assert line.startswith("time limit reached")

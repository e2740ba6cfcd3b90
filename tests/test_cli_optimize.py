"""`geoplan optimize`: one model from the command line, outputs written, bad options rejected."""

from __future__ import annotations

import json

from conftest import DEMO
from geoplan.cli import main


def test_optimize_max_covering_on_the_demo(tmp_path, capsys):
    code = main(["optimize", str(DEMO), "--model", "max_covering", "--mode", "ebike",
                 "--minutes", "15", "--existing-types", "insurance_service_point",
                 "--candidate-types", "community building", "village committee", "--p", "3",
                 "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "optimal" in out and "reduction" in out
    s = json.loads((tmp_path / "max_covering_summary.json").read_text(encoding="utf-8"))
    assert s["status"] == "optimal" and s["new_sites"] == 3
    assert s["share_after"] > s["share_before"] > 0
    assert (tmp_path / "max_covering_sites.gpkg").exists()
    assert (tmp_path / "max_covering_units.csv").exists()


def test_optimize_rejects_incomplete_options(tmp_path, capsys):
    code = main(["optimize", str(DEMO), "--model", "p_median", "--mode", "drive",
                 "--minutes", "30", "--out", str(tmp_path)])
    assert code == 2
    assert "missing required key 'p'" in capsys.readouterr().err
    code = main(["optimize", str(DEMO), "--model", "max_covering", "--mode", "drive",
                 "--minutes", "-5", "--p", "2", "--out", str(tmp_path)])
    assert code == 2
    assert "minutes" in capsys.readouterr().err

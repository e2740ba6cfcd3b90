"""`geoplan optimize`: one model from the command line, outputs written, bad options rejected."""

from __future__ import annotations

import json

import pytest
from conftest import DEMO

from geoplan.cli.main import main


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
    # the written figures, recomputed by the coverage module (not the model) from the
    # written sites: the plan's share is the share those sites really cover
    import geopandas as gpd
    import pandas as pd

    from geoplan.access.coverage import coverage_by_unit, travel_context
    from geoplan.inputs.region import load_region
    region = load_region(DEMO)
    sites = pd.read_csv(tmp_path / "max_covering_sites.csv", encoding="utf-8-sig")
    assert (sites["status"] == "new").sum() == 3
    pool = pd.concat([region.facilities[["id", "type", "geometry"]],
                      region.candidates[["id", "type", "geometry"]]], ignore_index=True)
    chosen = gpd.GeoDataFrame(pool[pool["id"].isin(sites["id"])], crs=region.facilities.crs)
    assert len(chosen) == len(sites)
    ctx = travel_context(region.network, "ebike", region.population)
    table = coverage_by_unit(ctx, chosen, [15], boundaries=region.boundaries)
    total = table.iloc[-1]
    assert s["share_after"] == pytest.approx(float(total["share_15min"]), abs=1e-9)
    units = pd.read_csv(tmp_path / "max_covering_units.csv", encoding="utf-8-sig")
    body = units[units["admin_code"].astype(str) != "total"]
    last = units.iloc[-1]
    for col in ("population", "covered_before", "covered_after"):
        assert body[col].sum() == pytest.approx(float(last[col]), rel=1e-9)
    assert float(last["covered_after"]) == pytest.approx(s["covered_after"], rel=1e-9)


def test_optimize_rejects_incomplete_options(tmp_path, capsys):
    code = main(["optimize", str(DEMO), "--model", "p_median", "--mode", "drive",
                 "--minutes", "30", "--out", str(tmp_path)])
    assert code == 2
    assert "missing required key 'p'" in capsys.readouterr().err
    code = main(["optimize", str(DEMO), "--model", "max_covering", "--mode", "drive",
                 "--minutes", "-5", "--p", "2", "--out", str(tmp_path)])
    assert code == 2
    assert "minutes" in capsys.readouterr().err


BEDS = ["--model", "beds_to_ratio", "--level", "district_code", "--cost-per-bed", "60",
        "--max-add-share", "0.5", "--new-site-types", "township land",
        "--new-site-fixed-cost", "8000", "--new-site-min-beds", "100",
        "--new-site-max-beds", "500"]


def test_optimize_site_rules_and_quiet_by_default(tmp_path, capsys):
    code = main(["optimize", str(DEMO), *BEDS, "--force-open", "S0151",
                 "--force-closed", "S0187", "H003", "--max-new-per-unit", "990103=3",
                 "990104=2", "--out", str(tmp_path)])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    for stream in (cap.out, cap.err):
        assert "CBC" not in stream and "Coin" not in stream and "INFO" not in stream
    sites = (tmp_path / "beds_to_ratio_sites.csv").read_text(encoding="utf-8-sig")
    assert "S0151" in sites and "S0187" not in sites and "H003" not in sites
    s = json.loads((tmp_path / "beds_to_ratio_summary.json").read_text(encoding="utf-8"))
    assert s["status"] == "optimal"


def test_optimize_verbose_logs_on_stderr(tmp_path, capsys):
    import logging
    handlers = list(logging.getLogger("geoplan").handlers)
    code = main(["-v", "optimize", str(DEMO), *BEDS, "--max-new-per-unit", "3",
                 "--solver", "cbc", "--out", str(tmp_path)])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    assert "Welcome to the CBC MILP Solver" in cap.err and "Result - Optimal" in cap.err
    assert "INFO geoplan.cli.main: running beds_to_ratio" in cap.err
    assert "DEBUG geoplan.solver: beds_to_ratio: CBC" in cap.err
    assert "CBC" not in cap.out and "Plan(beds_to_ratio, optimal" in cap.out
    assert logging.getLogger("geoplan").handlers == handlers       # removed afterwards


def test_optimize_verbose_highs_log_goes_to_stderr(tmp_path, capfd):
    code = main(["optimize", str(DEMO), *BEDS, "--solver", "highs", "--force-open", "S0151",
                 "--verbose", "--out", str(tmp_path)])
    cap = capfd.readouterr()
    assert code == 0, cap.err
    assert "Presolving model" in cap.err and "INFO geoplan.optimize.beds" in cap.err
    assert "Presolving" not in cap.out and "HiGHS" not in cap.out
    assert "S0151" in (tmp_path / "beds_to_ratio_sites.csv").read_text(encoding="utf-8-sig")


def test_optimize_rejects_bad_site_rules(tmp_path, capsys):
    code = main(["optimize", str(DEMO), *BEDS, "--max-new-per-unit", "two",
                 "--out", str(tmp_path)])
    assert code == 2 and "max_new_per_unit" in capsys.readouterr().err
    code = main(["optimize", str(DEMO), *BEDS, "--max-new-per-unit", "990103=one",
                 "--out", str(tmp_path)])
    assert code == 2 and "expected UNIT=N" in capsys.readouterr().err
    code = main(["optimize", str(DEMO), *BEDS, "--force-open", "S0151",
                 "--force-closed", "S0151", "--out", str(tmp_path)])
    assert code == 2 and "both in force_open and force_closed" in capsys.readouterr().err
    code = main(["optimize", str(DEMO), *BEDS, "--force-open", "S9999",
                 "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "force_open" in err and "S9999" in err


def test_every_optimize_option_reaches_the_model_or_is_tested(tmp_path, capsys):
    """Each option of geoplan optimize is a [[model]] key (checked by check_model and
    varied one by one in tests/scenario/test_scenario_options.py) or one of the options
    below, each shown to act here; --max-snap-m changes who reaches a road."""
    from geoplan.cli.main import _OPT_KEYS, build_parser
    from geoplan.scenario.spec import MODEL_KEYS
    sub = next(a for a in build_parser()._subparsers._group_actions
               if hasattr(a, "choices") and a.choices).choices["optimize"]
    dests = {a.dest for a in sub._actions if a.dest != "help"}
    every_key = set().union(*MODEL_KEYS.values())
    assert set(_OPT_KEYS) <= every_key
    own = {"model", "name", "region", "max_new_per_unit", "verbose", "max_snap_m", "out"}
    assert dests - set(_OPT_KEYS) - own == set()
    args = ["optimize", str(DEMO), "--model", "max_covering", "--mode", "ebike",
            "--minutes", "15", "--existing-types", "insurance_service_point",
            "--candidate-types", "community building", "--p", "1"]
    shares = {}
    for snap in ("1000", "50"):
        out = tmp_path / snap
        assert main([*args, "--max-snap-m", snap, "--name", f"snap{snap}", "--out",
                     str(out)]) == 0
        s = json.loads((out / f"snap{snap}_summary.json").read_text(encoding="utf-8"))
        shares[snap] = s["share_before"]
    assert shares["50"] < shares["1000"] - 0.01         # cells 50-1000 m off a road lose it

"""The command line: help, inspect, and clean errors with a non-zero exit."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT
from osm_fixtures import write_osm

from geoplan.cli.main import build_parser, main


def test_help_on_every_subcommand(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in sub.choices:
        with pytest.raises(SystemExit) as e:
            main([name, "--help"])
        assert e.value.code == 0
    assert "inspect" in capsys.readouterr().out


def test_cli_py_and_module_entry_points():
    for cmd in ([sys.executable, "cli.py", "--help"], [sys.executable, "-m", "geoplan", "--help"]):
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        assert out.returncode == 0, out.stderr
        assert "inspect" in out.stdout


def test_inspect_facilities_prints_counts(write, capsys):
    p = write("f.csv", "id,name,type,beds,lon,lat\nA,a,三级医院,800,114.3,30.05\n"
                       "B,b,村卫生室,,114.31,30.05\nC,c,村卫生室,,114.32,30.05\n")
    assert main(["inspect", str(p), "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "三级医院" in out and "村卫生室" in out and "合计" in out and "800" in out


def test_inspect_network(tmp_path, capsys):
    assert main(["inspect", str(write_osm(tmp_path / "r.osm"))]) == 0
    out = capsys.readouterr().out
    assert "road network" in out and "residential" in out and "primary" in out


@pytest.mark.parametrize("content,expected", [
    ("id,type,lon,lat\nA,村卫生室,114.3,95\n", "line 2"),
    ("id,name\nA,x\n", "missing required column"),
])
def test_inspect_bad_input_exits_2_with_message(write, capsys, content, expected):
    p = write("bad.csv", content)
    assert main(["inspect", str(p), "--kind", "facilities"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bad.csv" in err and expected in err
    assert "Traceback" not in err


def test_inspect_missing_file_subprocess(tmp_path):
    out = subprocess.run([sys.executable, "cli.py", "inspect", str(tmp_path / "none.csv")],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert "none.csv" in out.stderr and "not found" in out.stderr
    assert "Traceback" not in out.stderr


def test_warnings_are_printed(write, tmp_path, capsys):
    import geopandas as gpd
    from shapely.geometry import box

    gpd.GeoDataFrame({"code": ["1"], "name": ["u"]}, geometry=[box(114.0, 30.0, 114.305, 30.1)],
                     crs=4326).to_file(tmp_path / "u.geojson")
    p = write("f.csv", "id,type,lon,lat\nA,村卫生室,114.3,30.05\nB,村卫生室,114.5,30.05\n")
    assert main(["inspect", str(p), "--boundaries", str(tmp_path / "u.geojson")]) == 0
    assert "warning: " in capsys.readouterr().err


def test_inspect_speaks_one_language(capsys):
    """`geoplan inspect --lang zh` of the demo region and of each of its files: titles,
    keys, table headers, road classes, totals and value phrases in Chinese (only the data's
    own values, file paths, CRS names and proper names stay as written); `--lang en` of
    the region shows no Chinese but the data's own names."""
    import re

    from conftest import DEMO
    from zh_pages import data_values, english_words

    from geoplan.inputs.region import load_region

    import geopandas as gpd

    region = load_region(DEMO)
    raw = gpd.read_file(DEMO / "boundaries.geojson").drop(columns="geometry")  # as in the file
    cells = {str(v) for c in raw.columns for v in raw[c].dropna()}
    allowed = sorted({*data_values(region), *cells, str(DEMO), "WGS 84 / UTM zone 50N",
                      "EPSG", "region.toml"}, key=len, reverse=True)
    files = [str(DEMO)] + [str(DEMO / f) for f in (
        "boundaries.geojson", "population.tif", "facilities.csv", "candidates.csv",
        "roads.osm.bz2")]
    for f in files:
        extra = ["--crs", "gcj02"] if f.endswith((".csv",)) else []
        assert main(["inspect", f, "--lang", "zh", *extra]) == 0
        out = capsys.readouterr().out
        words = [w for line in out.splitlines()
                 for w in english_words(line, [f, *allowed]) if not w.isdigit()]
        assert not words, (f, sorted(set(words)))
        if f != str(DEMO):          # English: the region folder shows every section
            continue
        assert main(["inspect", f, "--lang", "en", *extra]) == 0
        out = capsys.readouterr().out
        names = {*data_values(region), *cells, region.name_zh or ""}
        for v in sorted(names, key=len, reverse=True):
            out = out.replace(v, "") if v else out
        # a unit's Chinese name is data; what is left must not be Chinese
        assert not re.findall(r"[\u4e00-\u9fff]+", out), (f, re.findall(r"[\u4e00-\u9fff]+",
                                                                         out)[:10])

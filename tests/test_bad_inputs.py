"""The bad-input catalogue: what a hostile but realistic user types, and what geoplan says.

One table of cases, each a command line on files written into a fresh folder: the exit
code it must give, the words its message must contain (the file, the line or key, and
what to do), and that it leaves no traceback and no output behind. Every case here was
once a traceback, a silent wrong answer or a late error naming no file (issue 13).

Cases are cheap by design: each must be refused before the population and the road
network are read (the scenario loader checks every name against the region's cheap
layers), so the whole table runs in seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO
from osm_fixtures import grid_osm

from geoplan.cli.main import main

BASE = f"""name = "case"
region = "{DEMO.as_posix()}"
maps = false
report = false
[[coverage]]
name = "insurance"
types = ["insurance_service_point"]
modes = ["ebike"]
minutes = [15]
[[model]]
name = "points"
kind = "max_covering"
existing_types = ["insurance_service_point"]
candidate_types = ["community building", "village committee"]
mode = "ebike"
minutes = 15
p = 3
"""


@dataclass
class Case:
    """One bad input: files to write, the command, what must come back."""

    id: str
    argv: list[str]
    words: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    code: int = 2
    make: Callable[[Path], None] | None = None     # writes files a dict cannot hold


def _sc(old: str, new: str, *words: str, id: str) -> Case:
    text = BASE.replace(old, new, 1)
    assert text != BASE, id
    return Case(id, ["run", "s.toml", "--out", "out"], ["s.toml", *words], {"s.toml": text})


def _sc_add(extra: str, *words: str, id: str, after: str = "p = 3\n") -> Case:
    return _sc(after, after + extra, *words, id=id)


def _tif(path: Path, *, width: int = 64, height: int = 64, **extra) -> None:
    import rasterio
    from rasterio.transform import from_origin

    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1,
               "dtype": "float32", "crs": "EPSG:4326", "nodata": -99999.0,
               "transform": from_origin(114.0, 30.2, 0.001, 0.001), **extra}
    with rasterio.open(path, "w", **profile) as dst:
        if not extra.get("sparse_ok"):
            dst.write(np.ones((1, height, width), "float32") * 5)


def _corrupt_tif(d: Path) -> None:
    p = d / "pop.tif"
    _tif(p, tiled=True, blockxsize=16, blockysize=16, compress="deflate")
    import rasterio

    with rasterio.open(p) as src:                 # where the tiles' bytes are
        spans = [(int(src.get_tag_item(f"BLOCK_OFFSET_{i}_{j}", "TIFF", bidx=1)),
                  int(src.get_tag_item(f"BLOCK_SIZE_{i}_{j}", "TIFF", bidx=1)))
                 for i in range(4) for j in range(4)]
    raw = bytearray(p.read_bytes())
    for off, size in spans:                       # header intact, tile data garbage
        raw[off:off + size] = b"\xff" * size
    p.write_bytes(bytes(raw))


def _huge_sparse_tif(d: Path) -> None:
    _tif(d / "pop.tif", width=48_399, height=40_699, tiled=True, BIGTIFF="YES",
         sparse_ok=True)


CASES = [
    # ---- scenario values checked on their own
    _sc("minutes = [15]", "minutes = [inf]", "line 9", "minutes", "finite", id="minutes-inf"),
    _sc("minutes = [15]", "minutes = [nan]", "line 9", "minutes", id="minutes-nan"),
    _sc("minutes = [15]", "minutes = [-15]", "line 9", "positive", id="minutes-negative"),
    _sc("minutes = [15]", 'minutes = ["15"]', "line 9", "minutes", "e.g.", id="minutes-text"),
    _sc("minutes = 15\n", "minutes = inf\n", "line 16", "minutes", id="model-minutes-inf"),
    _sc("p = 3", "p = 0", "line 17", "positive", id="p-zero"),
    _sc("p = 3", "p = 2.5", "line 17", "whole number", id="p-fraction"),
    _sc('kind = "max_covering"', 'kind = ["max_covering"]', "line 12", "kind", "list",
        id="kind-list"),
    _sc('kind = "max_covering"', "kind = { a = 1 }", "line 12", "kind", id="kind-table"),
    _sc('kind = "max_covering"', 'kind = "max_cover"', "line 12", "unknown model kind",
        "max_covering", id="kind-unknown"),
    _sc('kind = "max_covering"\n', "", "missing required key 'kind'", id="kind-missing"),
    _sc('mode = "ebike"', 'mode = "bike"', "line 15", "mode", "walk", id="mode-unknown"),
    _sc('modes = ["ebike"]', 'modes = ["bus"]', "line 8", "unknown mode", id="modes-unknown"),
    _sc('name = "case"', 'name = "case"\nlanguage = "fr"', "language", "'zh'", "write",
        id="language-unknown"),
    _sc("maps = false", 'maps = "yes"', "maps", "true or false",
        id="maps-not-bool"),
    _sc_add("time_limit = inf\n", "time_limit", "finite", id="time-limit-inf"),
    _sc_add("time_limit = -1\n", "time_limit", "positive", id="time-limit-negative"),
    _sc_add("gap = -0.1\n", "gap", "negative", id="gap-negative"),
    _sc_add("budgett = 10\n", "unknown key 'budgett'", "budget", id="key-typo"),
    _sc_add("target_share = 0.9\n", "unknown key 'target_share'", id="key-of-other-kind"),
    _sc_add('force_open = "S0001"\n', "force_open", "list", id="force-open-not-list"),
    _sc_add('force_open = ["S0001"]\nforce_closed = ["S0001"]\n', "both in force_open",
            id="force-open-and-closed"),
    _sc_add("max_new_per_unit = -1\n", "max_new_per_unit", "negative",
            id="cap-negative"),
    _sc("p = 3\n", 'p = 3\n[[model]]\nname = "points"\nkind = "p_median"\n'
        'candidate_types = ["community building"]\nmode = "walk"\nminutes = 15\np = 2\n',
        "two model entries are named 'points'", id="model-name-twice"),
    # ---- names checked against the region at load (before population and roads)
    _sc('types = ["insurance_service_point"]', 'types = ["insurance_pointt"]', "line 7",
        "unknown facility type 'insurance_pointt'", "insurance_service_point",
        id="coverage-type-unknown"),
    _sc('existing_types = ["insurance_service_point"]', 'existing_types = ["hospitall"]',
        "line 13", "unknown facility type", id="existing-type-unknown"),
    _sc('existing_types = ["insurance_service_point"]',
        'existing_types = ["医保服务站", "nursing_home"]', "line 13",
        "nursing_home", id="existing-type-one-unknown"),
    _sc('candidate_types = ["community building", "village committee"]',
        'candidate_types = ["community buildings"]', "line 14",
        "no candidate sites of type(s) ['community buildings']", "village committee",
        id="candidate-type-unknown"),
    _sc_add('upgrade_types = ["no_such_type"]\n', "upgrade_types", "unknown facility type",
            id="upgrade-type-unknown"),
    _sc_add('level = "district"\n', "level 'district' is not a boundary column",
            "district_code", id="level-not-a-column"),
    _sc_add('demand_levels = ["village"]\n', "unknown level(s) ['village']", "town",
            id="demand-level-unknown"),
    _sc_add('force_open = ["S9999"]\n', "S9999", "no facility or candidate site",
            id="force-open-unknown-id"),
    _sc_add('force_closed = ["H999"]\n', "H999", "force_closed", id="force-closed-unknown-id"),
    _sc('name = "insurance"\ntypes', 'name = "insurance"\nlevel = "town_code"\ntypes',
        "level 'town_code' is not a boundary column", id="coverage-level-unknown"),
    _sc('region = "', 'region = "/nowhere/', "does not exist", id="region-missing"),
    _sc('report = false\n', 'report = false\n[travel]\nprofiles = "nowhere.toml"\n',
        "nowhere.toml", "does not exist", id="profiles-missing"),
    Case("profiles-broken", ["run", "s.toml", "--out", "out"], ["bad.toml"],
         {"s.toml": BASE.replace("report = false\n",
                                 'report = false\n[travel]\nprofiles = "bad.toml"\n'),
          "bad.toml": "[walk\ndefault_speed_kmh = 3\n"}),
    Case("profiles-bad-value", ["run", "s.toml", "--out", "out"],
         ["p.toml", "default_speed_kmh"],
         {"s.toml": BASE.replace("report = false\n",
                                 'report = false\n[travel]\nprofiles = "p.toml"\n'),
          "p.toml": "[walk]\ndefault_speed_kmh = -3\n"}),
    # ---- readers (geoplan inspect FILE)
    Case("csv-lon-twice", ["inspect", "f.csv"], ["f.csv", "line 1", "more than once", "lon"],
         {"f.csv": "id,name,type,lon,lat,lon\nA,甲,卫生院,114.3,30.0,114.4\n"}),
    Case("csv-lon-twice-case", ["inspect", "f.csv"], ["f.csv", "more than once", "LON"],
         {"f.csv": "id,name,type,lon,lat,LON\nA,甲,卫生院,114.3,30.0,114.4\n"}),
    Case("osm-without-highways", ["inspect", "roads.osm"], ["roads.osm", "no highway ways"],
         {"roads.osm": grid_osm().replace('k="highway"', 'k="building"')}),
    Case("osm-truncated", ["inspect", "roads.osm"], ["roads.osm", "cannot read"],
         {"roads.osm": grid_osm()[:400]}),
    Case("tif-corrupt-tiles", ["inspect", "pop.tif"], ["pop.tif", "damaged"],
         make=_corrupt_tif),
    Case("tif-huge-sparse", ["inspect", "pop.tif"], ["pop.tif", "48,399 x 40,699",
                                                       "GEOPLAN_MAX_RASTER_CELLS"],
         make=_huge_sparse_tif),
    Case("tif-not-a-tif", ["inspect", "pop.tif"], ["pop.tif", "cannot read the raster"],
         {"pop.tif": b"II*\x00 not really a tiff"}),
    # ---- geoplan compare on files that are not a run's summary
    Case("compare-not-json", ["compare", "r"], ["summary.json", "not a valid"],
         {"r/summary.json": "{oops"}),
    Case("compare-list", ["compare", "r"], ["summary.json", "no 'scenario' key"],
         {"r/summary.json": "[1, 2]"}),
    Case("compare-coverage-text", ["compare", "r"], ["summary.json", "coverage", "list"],
         {"r/summary.json": '{"scenario": "s", "coverage": "all"}'}),
    Case("compare-coverage-int", ["compare", "r"], ["summary.json", "coverage[0]", "table"],
         {"r/summary.json": '{"scenario": "s", "coverage": [3]}'}),
    Case("compare-model-no-name", ["compare", "r"], ["summary.json", "models[0].name"],
         {"r/summary.json": '{"scenario": "s", "models": [{"kind": "p_median"}]}'}),
    Case("compare-modes-text", ["compare", "r"], ["summary.json", "modes"],
         {"r/summary.json": '{"scenario": "s", "coverage": [{"name": "a", "modes": "x"}]}'}),
    Case("compare-share-text", ["compare", "r"], ["summary.json", "share_15min"],
         {"r/summary.json": '{"scenario": "s", "coverage": [{"name": "a", "modes": '
                            '{"walk": {"share_15min": "high"}}}]}'}),
    Case("compare-objective-text", ["compare", "r"], ["summary.json", "objective"],
         {"r/summary.json": '{"scenario": "s", "models": [{"name": "m", '
                            '"objective": "best"}]}'}),
    Case("compare-missing", ["compare", "nowhere"], ["no summary.json here"]),
    # ---- region manifests (region.toml), read by every command
    Case("region-unknown-key", ["inspect", "r"], ["region.toml", "unknown key 'boundary'"],
         {"r/region.toml": 'name = "r"\n[boundary]\npath = "b.geojson"\n'}),
    Case("region-unknown-subkey", ["inspect", "r"], ["region.toml", "unknown key 'paht'"],
         {"r/region.toml": 'name = "r"\n[boundaries]\npaht = "b.geojson"\n'}),
    Case("region-layer-not-table", ["inspect", "r"], ["region.toml", "must be a table"],
         {"r/region.toml": 'name = "r"\nboundaries = "b.geojson"\n'}),
    Case("region-path-not-text", ["inspect", "r"], ["region.toml", "must be a string"],
         {"r/region.toml": 'name = "r"\n[boundaries]\npath = 3\n'}),
    Case("region-toml-syntax", ["inspect", "r"], ["region.toml", "TOML syntax error"],
         {"r/region.toml": 'name = "r\n[boundaries]\n'}),
    Case("region-not-utf8", ["inspect", "r"], ["region.toml", "UTF-8"],
         {"r/region.toml": 'name = "青山"\n'.encode("gbk")}),
    Case("region-layer-file-missing", ["inspect", "r"], ["b.geojson"],
         {"r/region.toml": 'name = "r"\n[boundaries]\npath = "b.geojson"\n'}),
    Case("region-folder-empty", ["inspect", "r"], ["region manifest not found"],
         {"r/notes.txt": "x"}),
    # ---- command-line options
    Case("coverage-minutes-negative", ["coverage", str(DEMO), "--minutes", "-5"],
         ["minutes must be positive"]),
    Case("coverage-encoding-unknown", ["coverage", str(DEMO), "--facilities", "f.csv",
                                       "--encoding", "klingon"],
         ["f.csv", "unknown text encoding 'klingon'"],
         {"f.csv": "id,name,type,lon,lat\nA,甲,卫生院,114.3,30.0\n"}),
    Case("coverage-no-inputs", ["coverage"], ["give", "region"]),
    Case("map-region-missing", ["map", "nowhere"], ["region manifest not found"]),
    Case("optimize-p-missing", ["optimize", str(DEMO), "--model", "p_median", "--mode", "walk",
                                "--minutes", "15", "--candidate-types", "community building"],
         ["'p'"]),
    Case("optimize-share-too-big", ["optimize", str(DEMO), "--model", "set_covering", "--mode",
                                    "walk", "--minutes", "15", "--target-share", "95",
                                    "--candidate-types", "community building"],
         ["target_share", "share between 0 and 1"]),
    Case("inspect-missing-file", ["inspect", "absent.csv"], ["absent.csv"]),
    Case("inspect-empty-csv", ["inspect", "f.csv"], ["f.csv", "no content"], {"f.csv": "  \n"}),
    Case("inspect-header-only", ["inspect", "f.csv"], ["f.csv", "no data rows"],
         {"f.csv": "id,name,type,lon,lat\n"}),
    Case("inspect-geojson-truncated", ["inspect", "b.geojson"], ["b.geojson"],
         {"b.geojson": '{"type": "FeatureCollection", "features": [{"type": "Feat'}),
    Case("inspect-geojson-empty", ["inspect", "b.geojson"], ["b.geojson", "no features"],
         {"b.geojson": '{"type": "FeatureCollection", "features": []}'}),
    # ---- the command line
    Case("optimize-on-a-data-file", ["optimize", "f.csv", "--model", "p_median", "--mode",
                                     "walk", "--minutes", "15", "--p", "2"],
         ["f.csv", "not a region", "region folder"],
         {"f.csv": "id,name,type,lon,lat\nA,甲,卫生院,114.3,30.0\n"}),
    Case("optimize-type-unknown", ["optimize", str(DEMO), "--model", "p_median", "--mode",
                                   "walk", "--minutes", "15", "--p", "2",
                                   "--candidate-types", "community building",
                                   "--existing-types", "hospitall"],
         ["--existing-types", "unknown facility type 'hospitall'"]),
    Case("optimize-candidate-type-unknown", ["optimize", str(DEMO), "--model", "p_median",
                                             "--mode", "walk", "--minutes", "15", "--p", "2",
                                             "--candidate-types", "parks"],
         ["--candidate-types", "no candidate sites of type(s) ['parks']"]),
    Case("coverage-on-a-data-file", ["coverage", "f.csv"], ["f.csv", "not a region"],
         {"f.csv": "id,name,type,lon,lat\nA,甲,卫生院,114.3,30.0\n"}),
    Case("run-empty-folder", ["run", "empty", "--out", "out"], ["no scenario file"],
         {"empty/notes.txt": "nothing"}),
    Case("run-missing-file", ["run", "absent.toml", "--out", "out"], ["absent.toml",
                                                                      "not found"]),
    Case("toml-syntax", ["run", "s.toml", "--out", "out"], ["s.toml", "line"],
         {"s.toml": BASE.replace("p = 3", "p = = 3")}),
    Case("toml-not-utf8", ["run", "s.toml", "--out", "out"], ["s.toml", "UTF-8"],
         {"s.toml": BASE.replace('name = "case"', 'name = "青山"').encode("gbk")}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_clearly(case: Case, tmp_path: Path, capsys, monkeypatch) -> None:
    if case.make is not None:
        case.make(tmp_path)
    for name, content in case.files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code = main(case.argv)
    err = capsys.readouterr().err
    assert code == case.code, err
    assert "Traceback" not in err
    for w in case.words:
        assert w in err, f"{case.id}: {w!r} not in {err!r}"
    assert "->" in err or "hint" in err, f"{case.id}: the message says nothing to do: {err}"
    assert not (tmp_path / "out").exists(), "a refused run left output behind"


def test_catalogue_size() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 40

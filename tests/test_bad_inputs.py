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


# ---- helpers for the cases below
D = DEMO.as_posix()
TOP = f'name = "case"\nregion = "{D}"\nmaps = false\nreport = false\n[[model]]\n'
MODELS = {
    "set_covering": 'name = "m"\nkind = "set_covering"\n'
                    'existing_types = ["insurance_service_point"]\n'
                    'candidate_types = ["community building"]\nmode = "ebike"\nminutes = 15\n'
                    "target_share = 0.9\n",
    "tradeoff": 'name = "m"\nkind = "tradeoff"\nexisting_types = ["insurance_service_point"]\n'
                'candidate_types = ["community building"]\nmode = "ebike"\nminutes = 15\n'
                "p_max = 5\n",
    "p_median": 'name = "m"\nkind = "p_median"\ncandidate_types = ["community building"]\n'
                'mode = "walk"\nminutes = 15\np = 3\n',
    "p_center": 'name = "m"\nkind = "p_center"\nexisting_types = ["emergency_station"]\n'
                'candidate_types = ["village committee"]\nmode = "drive"\nminutes = 40\n'
                "p = 3\n",
    "beds_to_ratio": 'name = "m"\nkind = "beds_to_ratio"\nlevel = "district_code"\n'
                     'ratio = 7.0\nhospital_types = ["tertiary_hospital"]\n'
                     "cost_per_bed = 60.0\n",
    "function_centres": 'name = "m"\nkind = "function_centres"\n'
                        'centre_types = ["endoscopy", "dialysis"]\n'
                        'host_types = ["tertiary_hospital", "secondary_hospital"]\n'
                        'mode = "drive"\nminutes = 30\ntotal = 4\n',
}


def _line(text: str, key: str) -> str:
    """'line N' of the first line of the model table that sets ``key``."""
    start = text.index("[[model]]")
    head = text[:start].count("\n")
    for no, line in enumerate(text[start:].splitlines(), start=head + 1):
        if line.startswith(f"{key} ="):
            return f"line {no}"
    raise AssertionError(key)


def _m(kind: str, old: str, new: str, *words: str, id: str, key: str | None = None) -> Case:
    """A scenario with one model of ``kind``, ``old`` replaced by ``new`` in it."""
    body = MODELS[kind]
    if old:
        assert old in body, id
        body = body.replace(old, new, 1)
    else:
        body += new
    text = TOP + body
    extra = [_line(text, key)] if key else []
    return Case(id, ["run", "s.toml", "--out", "out"], ["s.toml", *extra, *words],
                {"s.toml": text})


def _fc(*features: tuple[dict, dict | None]) -> str:
    """A GeoJSON FeatureCollection of (properties, geometry) pairs."""
    import json

    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": g} for p, g in features]})


def _sq(x: float, y: float, d: float = 0.01) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d],
                                                [x, y + d], [x, y]]]}


def _pt(x: float, y: float) -> dict:
    return {"type": "Point", "coordinates": [x, y]}


def _popgrid(*values: object) -> str:
    return _fc(*(({"population": v}, _sq(114.30 + i * 0.01, 30.05))
                 for i, v in enumerate(values)))


def _projected(text: str) -> str:
    """The FeatureCollection ``text`` declaring UTM 50N (EPSG:32650), coordinates made
    metres (as a GIS writes a projected layer)."""
    import json

    fc = json.loads(text)
    fc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32650"}}
    for f in fc["features"]:
        ring = f["geometry"]["coordinates"][0]
        f["geometry"]["coordinates"][0] = [[500_000 + (x - 117) * 1e5, 3_300_000 + y * 1e3]
                                           for x, y in ring]
    return json.dumps(fc)


def _units(*codes: str) -> str:
    return _fc(*(({"code": c, "name": f"u{c}"}, _sq(114.30 + i * 0.01, 30.05))
                 for i, c in enumerate(codes)))


FAC = "id,name,type,beds,lon,lat\nA,青山卫生院,卫生院,20,114.3,30.05\n"
CAND = "id,name,site_type,cost,lon,lat\nS1,李家村委会,village committee,40,114.30,30.05\n" \
       "S2,王家村委会,village committee,52,114.31,30.06\n"
SITES = "id,name,lon,lat,status\nN1,新点,114.30,30.05,new\n"
PLAN = '{"model": "p_median", "status": "optimal", "objective": 12.5, "gap": 0.0}'
MAP = ["map", D, "--out", "out"]
REPORT = ["report", D, "--out", "out"]
REGION_B = f'name = "r"\n[boundaries]\npath = "{D}/boundaries.geojson"\n'


def _gpkg_no_population(d: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[box(114.3, 30.05, 114.31, 30.06),
                                                     box(114.31, 30.05, 114.32, 30.06)],
                     crs=4326).to_file(d / "g.gpkg")


def _pbf(d: Path, *, tags: dict | None = None, cut: int | None = None) -> None:
    import osmium

    p = d / "roads.osm.pbf"
    with osmium.SimpleWriter(str(p)) as w:
        for i in range(4):
            w.add_node(osmium.osm.mutable.Node(id=i + 1, location=(114.30 + i * 0.001, 30.05)))
        w.add_way(osmium.osm.mutable.Way(id=10, nodes=[1, 2, 3, 4],
                                         tags=tags or {"highway": "residential"}))
    if cut is not None:
        p.write_bytes(p.read_bytes()[:cut])


def _graphml(d: Path, *, edges: bool = True, drop_node: str | None = None,
             drop_edge: str | None = None, cut: bool = False) -> None:
    import osmnx as ox

    (d / "g.osm").write_text(grid_osm(), "utf-8")
    G = ox.graph_from_xml(d / "g.osm", simplify=True, retain_all=True)
    (d / "g.osm").unlink()
    if not edges:
        G.remove_edges_from(list(G.edges))
    for _, data in G.nodes(data=True):
        data.pop(drop_node, None)
    for _, _, data in G.edges(data=True):
        data.pop(drop_edge, None)
    p = d / "roads.graphml"
    ox.save_graphml(G, p)
    if cut:
        p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


CASES = [
    # ---- scenario values checked on their own
    _sc('types = ["insurance_service_point"]', 'types = ["医疗保健服务;综合医院;综合医院"]',
        "line 7", "综合医院", "grade", "alias", id="poi-category-no-planning-type"),
    _sc('types = ["insurance_service_point"]', 'types = ["医保服务zhan"]', "line 7",
        "closest: 医保服务站", id="type-typo-closest"),
    _sc('existing_types = ["insurance_service_point"]', 'existing_types = ["090601"]',
        "line 13", "typecode 090601", id="gaode-typecode-pharmacy"),
    _sc('candidate_types = ["community building", "village committee"]\n', "",
        "no sites to choose from", "candidate_types", id="site-model-without-sites"),
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
    # ---- scenario keys of every model kind
    _m("set_covering", "target_share = 0.9", "target_share = 1.5", "share between 0 and 1",
       key="target_share", id="sc-target-share-over-1"),
    _m("set_covering", "", "unit_min_share = \"high\"\n", "unit_min_share", "a number",
       key="unit_min_share", id="sc-unit-min-share-text"),
    _m("set_covering", "", "unit_min_share = 0\n", "unit_min_share", "share between",
       key="unit_min_share", id="sc-unit-min-share-zero"),
    _m("set_covering", "", "p = 3\n", "unknown key 'p'", key="p", id="sc-key-p-of-other-kind"),
    _m("set_covering", "minutes = 15\n", "", "missing required key 'minutes'",
       id="sc-minutes-missing"),
    _m("set_covering", 'mode = "ebike"', 'mode = ["ebike"]', "mode", "a text",
       key="mode", id="sc-mode-list"),
    _sc("p = 3\n", "budget = -5\n", "budget", "positive", "line 17",
        id="mc-budget-negative"),
    _sc("p = 3\n", 'budget = "100"\n', "budget", "a number", "line 17", id="mc-budget-text"),
    _sc("p = 3\n", "", "needs 'p' or 'budget'", "[[model]] #1", id="mc-no-p-no-budget"),
    _m("tradeoff", "p_max = 5\n", "", "missing required key 'p_max'", id="to-p-max-missing"),
    _m("tradeoff", "p_max = 5", "p_max = 0", "p_max", "positive", key="p_max",
       id="to-p-max-zero"),
    _m("tradeoff", "p_max = 5", "p_max = 5.5", "p_max", "whole number", key="p_max",
       id="to-p-max-fraction"),
    _m("tradeoff", "", "budget = 100\n", "unknown key 'budget'", key="budget",
       id="to-key-budget-of-other-kind"),
    _m("p_median", "p = 3\n", "", "missing required key 'p'", id="pm-p-missing"),
    _m("p_median", "p = 3", "p = -2", "'p'", "positive", key="p", id="pm-p-negative"),
    _m("p_median", "p = 3", "p = 500", "p = 500", "candidate", key="p", id="pm-p-above-sites"),
    _m("p_median", "", "target_share = 0.9\n", "unknown key 'target_share'",
       key="target_share", id="pm-key-of-other-kind"),
    _m("p_median", 'candidate_types = ["community building"]',
       'candidate_types = ["community building", "parks"]', "candidate_types", "parks",
       key="candidate_types", id="pm-candidate-type-one-unknown"),
    _m("p_center", "p = 3\n", "", "needs 'p', or 'urban_minutes' and 'rural_minutes'",
       id="pc-no-p-no-standards"),
    _m("p_center", "p = 3\n", "urban_minutes = 12\n", "rural_minutes", id="pc-urban-only"),
    _m("p_center", "p = 3\n", 'urban_minutes = 12\nrural_minutes = 20\n'
       'urban_levels = ["city"]\n', "unknown level(s) ['city']", key="urban_levels",
       id="pc-urban-levels-unknown"),
    _m("p_center", "", "target_share = 0.9\n", "target_share", "with 'p'",
       key="target_share", id="pc-target-share-with-p"),
    _m("p_center", "p = 3\n", 'urban_minutes = 12\nrural_minutes = "20"\n', "rural_minutes",
       "a number", key="rural_minutes", id="pc-rural-minutes-text"),
    _m("p_center", 'existing_types = ["emergency_station"]',
       'existing_types = ["ambulance"]', "unknown facility type 'ambulance'",
       key="existing_types", id="pc-existing-type-unknown"),
    _m("beds_to_ratio", "ratio = 7.0", "ratio = -7.0", "ratio", "positive", key="ratio",
       id="br-ratio-negative"),
    _m("beds_to_ratio", "cost_per_bed = 60.0", "cost_per_bed = -60.0", "cost_per_bed",
       "not be negative", key="cost_per_bed", id="br-cost-per-bed-negative"),
    _m("beds_to_ratio", "", "max_add_share = \"half\"\n", "max_add_share", "a number",
       key="max_add_share", id="br-max-add-share-text"),
    _m("beds_to_ratio", "", "max_add = -10\n", "max_add", "not be negative", key="max_add",
       id="br-max-add-negative"),
    _m("beds_to_ratio", "", 'new_site_types = ["township land"]\nnew_site_fixed_cost = 8000\n'
       "new_site_min_beds = 500\nnew_site_max_beds = 100\n", "new_site_min_beds",
       "new_site_max_beds", key="new_site_min_beds", id="br-min-beds-above-max"),
    _m("beds_to_ratio", "", 'new_site_types = ["township land"]\n',
       "new_site_fixed_cost", key="new_site_types", id="br-new-sites-without-cost"),
    _m("beds_to_ratio", "", 'new_site_types = ["airport"]\nnew_site_fixed_cost = 8000\n',
       "no candidate sites of type(s) ['airport']", key="new_site_types",
       id="br-new-site-type-unknown"),
    _m("beds_to_ratio", 'hospital_types = ["tertiary_hospital"]',
       'hospital_types = ["clinic_xyz"]', "unknown facility type 'clinic_xyz'",
       key="hospital_types", id="br-hospital-type-unknown"),
    _m("beds_to_ratio", "", 'mode = "walk"\n', "unknown key 'mode'", key="mode",
       id="br-key-mode-of-other-kind"),
    _m("beds_to_ratio", "", "new_site_fixed_cost = -1\n", "new_site_fixed_cost",
       "not be negative", key="new_site_fixed_cost", id="br-fixed-cost-negative"),
    _m("function_centres", 'host_types = ["tertiary_hospital", "secondary_hospital"]',
       'host_types = ["tertiary_hospitals"]', "unknown facility type 'tertiary_hospitals'",
       key="host_types", id="fc-host-type-unknown"),
    _m("function_centres", 'centre_types = ["endoscopy", "dialysis"]',
       'centre_types = ["dialysis", "dialysis"]', "centre_types", "dialysis",
       key="centre_types", id="fc-centre-type-twice"),
    _m("function_centres", 'centre_types = ["endoscopy", "dialysis"]', "centre_types = []",
       "centre_types", "empty", key="centre_types", id="fc-centre-types-empty"),
    _m("function_centres", 'centre_types = ["endoscopy", "dialysis"]',
       'centre_types = ["endoscopy", " "]', "centre_types", key="centre_types",
       id="fc-centre-type-blank"),
    _m("function_centres", "total = 4\n", "", "needs 'total' or 'per_type'",
       id="fc-total-missing"),
    _m("function_centres", "", "min_share = 1.2\n", "min_share", "share between",
       key="min_share", id="fc-min-share-over-1"),
    _m("function_centres", "", "max_types_per_host = 0\n", "max_types_per_host", "positive",
       key="max_types_per_host", id="fc-max-types-zero"),
    _m("function_centres", "", 'existing_types = ["tertiary_hospital"]\n',
       "unknown key 'existing_types'", key="existing_types", id="fc-key-of-other-kind"),
    _m("function_centres", "total = 4", 'total = "four"', "total", "whole number",
       key="total", id="fc-total-text"),
    _m("function_centres", 'host_types = ["tertiary_hospital", "secondary_hospital"]',
       'host_types = "tertiary_hospital"', "host_types", "list", key="host_types",
       id="fc-host-types-not-list"),
    # ---- geoplan map / geoplan report options (refused before coverage is computed)
    Case("map-mode-unknown", [*MAP, "--mode", "bus"], ["--mode", "'bus'", "walk"]),
    Case("report-lang-unknown", [*REPORT, "--lang", "fr"], ["--lang", "'fr'", "zh"]),
    Case("map-basemap-unknown", [*MAP, "--basemap", "google"], ["--basemap", "'google'"]),
    Case("map-minutes-text", [*MAP, "--minutes", "fifteen"], ["--minutes", "'fifteen'"]),
    Case("map-minutes-negative", [*MAP, "--minutes", "-15"], ["--minutes", "positive"]),
    Case("report-minutes-nan", [*REPORT, "--minutes", "nan"], ["--minutes", "positive"]),
    Case("map-types-unknown", [*MAP, "--types", "hospitall"],
         ["--types", "unknown facility type 'hospitall'"]),
    Case("map-sites-missing", [*MAP, "--sites", "nowhere.csv"], ["nowhere.csv", "not found"]),
    Case("map-sites-not-geojson", [*MAP, "--sites", "sites.json"],
         ["sites.json", "cannot read"], {"sites.json": '{"sites": [1, 2]}'}),
    Case("map-sites-no-lonlat", [*MAP, "--sites", "sites.csv"], ["sites.csv", "lon", "--lon"],
         {"sites.csv": "id,name,status\nN1,新点,new\n"}),
    Case("map-sites-bad-status", [*MAP, "--sites", "sites.csv"],
         ["sites.csv", "line 2", "status", "'closed'"],
         {"sites.csv": SITES.replace(",new", ",closed")}),
    Case("map-sites-beds-text", [*MAP, "--sites", "sites.csv"],
         ["sites.csv", "line 2", "beds_added", "'many'"],
         {"sites.csv": SITES.replace("status\n", "status,beds_added\n")
          .replace(",new\n", ",new,many\n")}),
    Case("map-sites-other-region", [*MAP, "--sites", "sites.csv"],
         ["sites.csv", "outside the study area"],
         {"sites.csv": SITES.replace("114.30,30.05", "116.40,39.90")}),
    Case("map-sites-header-only", [*MAP, "--sites", "sites.csv"], ["sites.csv", "no data rows"],
         {"sites.csv": "id,name,lon,lat,status\n"}),
    Case("map-plan-summary-missing", [*MAP, "--sites", "s.csv", "--plan-summary", "p.json"],
         ["p.json", "not found"], {"s.csv": SITES}),
    Case("map-plan-summary-not-json", [*MAP, "--sites", "s.csv", "--plan-summary", "p.json"],
         ["p.json", "not valid JSON", "line 1"], {"s.csv": SITES, "p.json": "{model: 1"}),
    Case("map-plan-summary-list", [*MAP, "--sites", "s.csv", "--plan-summary", "p.json"],
         ["p.json", "JSON object"], {"s.csv": SITES, "p.json": "[1, 2]"}),
    Case("map-plan-summary-of-a-run", [*MAP, "--sites", "s.csv", "--plan-summary", "p.json"],
         ["p.json", "geoplan run", "_summary.json"],
         {"s.csv": SITES, "p.json": '{"scenario": "s", "models": []}'}),
    Case("report-plan-summary-objective-text",
         [*REPORT, "--sites", "s.csv", "--plan-summary", "p.json"],
         ["p.json", "objective", "'best'"],
         {"s.csv": SITES, "p.json": '{"model": "m", "objective": "best"}'}),
    Case("report-plan-summary-not-utf8",
         [*REPORT, "--sites", "s.csv", "--plan-summary", "p.json"], ["p.json", "UTF-8"],
         {"s.csv": SITES, "p.json": '{"model": "青山"}'.encode("gbk")}),
    Case("map-plan-summary-without-sites", [*MAP, "--plan-summary", "p.json"],
         ["--plan-summary", "--sites"], {"p.json": PLAN}),
    Case("map-out-is-a-file", ["map", D, "--out", "o.txt"], ["o.txt", "not a folder"],
         {"o.txt": "notes"}),
    Case("report-out-is-a-file", ["report", D, "--out", "o.txt"], ["o.txt", "not a folder"],
         {"o.txt": "notes"}),
    Case("map-name-with-folder", [*MAP, "--name", "../x"], ["--name", "'../x'"]),
    Case("map-on-a-data-file", ["map", "f.csv", "--out", "out"], ["f.csv", "not a region"],
         {"f.csv": FAC}),
    Case("report-tradeoff-missing", [*REPORT, "--tradeoff", "t.csv"], ["t.csv", "not found"]),
    Case("report-tradeoff-no-share", [*REPORT, "--tradeoff", "t.csv"],
         ["t.csv", "share", "n_sites"], {"t.csv": "n_sites,people\n1,100\n2,200\n"}),
    Case("report-tradeoff-share-text", [*REPORT, "--tradeoff", "t.csv"],
         ["t.csv", "line 3", "share", "'high'"], {"t.csv": "n_sites,share\n1,0.5\n2,high\n"}),
    Case("report-tradeoff-share-percent", [*REPORT, "--tradeoff", "t.csv"],
         ["t.csv", "line 2", "share", "between 0 and 1"],
         {"t.csv": "n_sites,share\n1,55\n2,70\n"}),
    Case("report-tradeoff-not-text", [*REPORT, "--tradeoff", "t.csv"], ["t.csv", "decode"],
         {"t.csv": b"PK\x03\x04\xff\xfe\x00\x81 xlsx bytes"}),
    # ---- vector population grids
    Case("popgrid-no-column", ["inspect", "g.geojson", "--kind", "population"],
         ["g.geojson", "population", "--population-column"],
         {"g.geojson": _fc(({"name": "a"}, _sq(114.3, 30.05)))}),
    Case("popgrid-column-option-wrong", ["inspect", "g.geojson", "--population-column",
                                         "pop2020"], ["g.geojson", "pop2020"],
         {"g.geojson": _popgrid(10, 20)}),
    Case("popgrid-negative", ["inspect", "g.geojson"], ["g.geojson", "feature 2", "negative"],
         {"g.geojson": _popgrid(10, -5)}),
    Case("popgrid-text", ["inspect", "g.geojson"],
         ["g.geojson", "feature 1", "not a population count", "'many'"],
         {"g.geojson": _popgrid("many", 5)}),
    Case("popgrid-null", ["inspect", "g.geojson"], ["g.geojson", "feature 2", "empty"],
         {"g.geojson": _popgrid(10, None)}),
    Case("popgrid-csv-nan", ["inspect", "p.csv", "--kind", "population"],
         ["p.csv", "line 3", "'NaN'"], {"p.csv": "lon,lat,population\n114.3,30.05,10\n"
                                                 "114.31,30.05,NaN\n"}),
    Case("popgrid-csv-inf", ["inspect", "p.csv"], ["p.csv", "line 2", "infinite"],
         {"p.csv": "lon,lat,population\n114.3,30.05,inf\n"}),
    Case("popgrid-empty-geometry", ["inspect", "g.geojson"], ["g.geojson", "feature 2",
                                                              "no geometry"],
         {"g.geojson": _fc(({"population": 5}, _sq(114.3, 30.05)), ({"population": 5}, None))}),
    Case("popgrid-all-zero", ["inspect", "g.geojson"], ["g.geojson", "no populated cells"],
         {"g.geojson": _popgrid(0, 0)}),
    Case("popgrid-lines", ["inspect", "g.geojson", "--kind", "population"],
         ["g.geojson", "feature 1", "LineString"],
         {"g.geojson": _fc(({"population": 5}, {"type": "LineString", "coordinates": [
             [114.3, 30.05], [114.31, 30.06]]}))}),
    Case("popgrid-density-on-points", ["inspect", "g.geojson", "--values", "density"],
         ["g.geojson", "density", "polygons"],
         {"g.geojson": _fc(({"population": 500}, _pt(114.3, 30.05)))}),
    Case("popgrid-density-on-csv", ["inspect", "p.csv", "--values", "density"],
         ["p.csv", "density", "polygons"], {"p.csv": "lon,lat,population\n114.3,30.05,10\n"}),
    Case("popgrid-gcj02-projected-file", ["inspect", "g.geojson", "--crs", "gcj02"],
         ["g.geojson", "projected", "EPSG:32650", "GCJ-02", "crs"],
         {"g.geojson": _projected(_popgrid(10, 20))}),
    Case("popgrid-gcj02-outside-china", ["inspect", "g.geojson", "--crs", "gcj02"],
         ["g.geojson", "feature 1", "outside China", "crs"],
         {"g.geojson": _popgrid(10, 20).replace("114.3", "-14.3")}),
    Case("popgrid-raster-gcj02", ["inspect", "pop.tif", "--crs", "gcj02"],
         ["pop.tif", "GCJ-02", "raster", "crs"], make=lambda d: _tif(d / "pop.tif")),
    Case("popgrid-raster-column", ["inspect", "r"], ["pop.tif", "column", "raster"],
         {"r/region.toml": 'name = "r"\n[population]\npath = "pop.tif"\ncolumn = "pop"\n'},
         make=lambda d: (d / "r").mkdir() or _tif(d / "r" / "pop.tif")),
    Case("popgrid-csv-projected-crs", ["inspect", "p.csv", "--kind", "population", "--crs",
                                       "EPSG:32650"], ["p.csv", "easting", "--x"],
         {"p.csv": "lon,lat,population\n114.3,30.05,10\n"}),
    Case("popgrid-gpkg-no-column", ["inspect", "g.gpkg", "--kind", "population"],
         ["g.gpkg", "population"], make=_gpkg_no_population),
    Case("region-popgrid-no-column", ["inspect", "r"], ["g.geojson", "population", "column"],
         {"r/region.toml": 'name = "r"\n[population]\npath = "g.geojson"\n',
          "r/g.geojson": _fc(({"people_2020": 5}, _sq(114.3, 30.05)))}),
    Case("region-popgrid-column-wrong", ["inspect", "r"], ["g.geojson", "pop2020"],
         {"r/region.toml": 'name = "r"\n[population]\npath = "g.geojson"\ncolumn = "pop2020"\n',
          "r/g.geojson": _popgrid(5)}),
    Case("region-popgrid-values-unknown", ["inspect", "r"], ["region.toml", "population.values",
                                                             "'people'"],
         {"r/region.toml": 'name = "r"\n[population]\npath = "g.geojson"\nvalues = "people"\n',
          "r/g.geojson": _popgrid(5)}),
    Case("region-popgrid-negative", ["inspect", "r"], ["g.geojson", "feature 1", "negative"],
         {"r/region.toml": 'name = "r"\n[population]\npath = "g.geojson"\n',
          "r/g.geojson": _popgrid(-5)}),
    # ---- candidate site files
    Case("cand-no-lon", ["inspect", "c.csv", "--kind", "candidates"], ["c.csv", "lon", "--lon"],
         {"c.csv": "id,name,lat\nS1,甲,30.05\n"}),
    Case("cand-lat-out-of-range", ["inspect", "c.csv", "--kind", "candidates"],
         ["c.csv", "line 3", "out of range"], {"c.csv": CAND.replace("30.06", "300.6")}),
    Case("cand-swapped", ["inspect", "c.csv", "--kind", "candidates"], ["c.csv", "swapped"],
         {"c.csv": CAND.replace("114.30,30.05", "30.05,114.30")
          .replace("114.31,30.06", "30.06,114.31")}),
    Case("cand-gcj02-outside-china", ["inspect", "c.csv", "--kind", "candidates", "--crs",
                                      "gcj02"], ["c.csv", "line 2", "outside China"],
         {"c.csv": CAND.replace("114.30,30.05", "-70.30,30.05")}),
    Case("cand-lon-empty", ["inspect", "c.csv", "--kind", "candidates"],
         ["c.csv", "line 2", "lon", "empty"], {"c.csv": CAND.replace("114.30,30.05", ",30.05")}),
    Case("cand-duplicate-ids", ["inspect", "c.csv", "--kind", "candidates"],
         ["c.csv", "duplicate id 'S1'", "line 3"], {"c.csv": CAND.replace("S2", "S1")}),
    Case("cand-cost-text", ["inspect", "c.csv", "--kind", "candidates"],
         ["c.csv", "line 3", "cost", "'a lot'"], {"c.csv": CAND.replace(",52,", ",a lot,")}),
    Case("cand-cost-negative", ["inspect", "c.csv", "--kind", "candidates"],
         ["c.csv", "line 2", "cost", "negative"], {"c.csv": CAND.replace(",40,", ",-40,")}),
    Case("cand-empty-file", ["inspect", "c.csv", "--kind", "candidates"], ["c.csv", "empty"],
         {"c.csv": b""}),
    Case("cand-id-option-missing", ["inspect", "c.csv", "--kind", "candidates", "--id", "code"],
         ["c.csv", "'code'", "--id"], {"c.csv": CAND}),
    Case("cand-bom-gbk-as-utf8", ["inspect", "c.csv", "--kind", "candidates", "--encoding",
                                  "utf-8"], ["c.csv", "utf-8", "line 2"],
         {"c.csv": b"\xef\xbb\xbf" + CAND.encode("gbk")}),
    Case("cand-encoding-latin1-on-utf8", ["inspect", "c.csv", "--kind", "candidates",
                                          "--encoding", "latin-1"],
         ["c.csv", "latin-1", "UTF-8"], {"c.csv": CAND}),
    Case("cand-encoding-gbk-on-utf8", ["inspect", "c.csv", "--kind", "candidates",
                                       "--encoding", "gbk"], ["c.csv", "gbk"],
         {"c.csv": CAND.replace("李家村委会", "李家岭村委会")}),
    Case("region-cand-cost-column-missing", ["inspect", "r"], ["c.csv", "'price'", "cost"],
         {"r/region.toml": REGION_B + '[candidates]\npath = "c.csv"\ncost = "price"\n',
          "r/c.csv": CAND}),
    Case("scenario-inputs-candidates-bad", ["run", "s.toml", "--out", "out"],
         ["c.csv", "line 2", "cost", "negative"],
         {"s.toml": BASE.replace("report = false\n",
                                 'report = false\n[inputs]\ncandidates = "c.csv"\n'),
          "c.csv": CAND.replace(",40,", ",-40,")}),
    # ---- road networks
    Case("graphml-truncated", ["inspect", "roads.graphml"], ["roads.graphml", "cannot read"],
         make=lambda d: _graphml(d, cut=True)),
    Case("graphml-not-xml", ["inspect", "roads.graphml"], ["roads.graphml", "cannot read"],
         {"roads.graphml": "id,from,to\n1,2,3\n"}),
    Case("graphml-no-edges", ["inspect", "roads.graphml"], ["roads.graphml", "no edges"],
         make=lambda d: _graphml(d, edges=False)),
    Case("graphml-no-length", ["inspect", "roads.graphml"], ["roads.graphml", "length"],
         make=lambda d: _graphml(d, drop_edge="length")),
    Case("graphml-no-x", ["inspect", "roads.graphml"], ["roads.graphml", "'x'"],
         make=lambda d: _graphml(d, drop_node="x")),
    Case("graphml-no-highway", ["inspect", "roads.graphml"], ["roads.graphml", "no highway"],
         make=lambda d: _graphml(d, drop_edge="highway")),
    Case("pbf-truncated", ["inspect", "roads.osm.pbf"], ["roads.osm.pbf", "cannot read"],
         make=lambda d: _pbf(d, cut=60)),
    Case("pbf-no-highways", ["inspect", "roads.osm.pbf"], ["roads.osm.pbf", "no highway"],
         make=lambda d: _pbf(d, tags={"building": "yes"})),
    Case("pbf-is-xml", ["inspect", "roads.osm.pbf"], ["roads.osm.pbf", "cannot read"],
         {"roads.osm.pbf": grid_osm()}),
    Case("bz2-not-bz2", ["inspect", "roads.osm.bz2"], ["roads.osm.bz2", "bz2"],
         {"roads.osm.bz2": grid_osm()}),
    Case("bz2-truncated", ["inspect", "roads.osm.bz2"], ["roads.osm.bz2", "cannot read"],
         {"roads.osm.bz2": __import__("bz2").compress(grid_osm().encode())[:200]}),
    Case("osm-no-nodes", ["inspect", "roads.osm"], ["roads.osm", "no edges"],
         {"roads.osm": '<?xml version="1.0"?>\n<osm version="0.6"></osm>\n'}),
    Case("network-kind-on-csv", ["inspect", "f.csv", "--kind", "network"],
         ["f.csv", "unknown format", ".graphml"], {"f.csv": FAC}),
    Case("region-network-broken", ["inspect", "r"], ["roads.graphml", "cannot read"],
         {"r/region.toml": REGION_B + '[network]\npath = "roads.graphml"\n',
          "r/roads.graphml": "<graphml><graph"}),
    # ---- boundaries
    Case("bnd-no-code", ["inspect", "b.geojson", "--kind", "boundaries"],
         ["b.geojson", "code", "--code", 'code = "COLUMN"'],
         {"b.geojson": _fc(({"title": "a"}, _sq(114.3, 30)))}),
    Case("bnd-duplicate-codes", ["inspect", "b.geojson"],
         ["b.geojson", "duplicate id '42'", "feature 2", "unit"],
         {"b.geojson": _units("42", "42")}),
    Case("bnd-empty-code", ["inspect", "b.geojson"], ["b.geojson", "feature 2", "empty"],
         {"b.geojson": _units("42", " ")}),
    Case("bnd-points", ["inspect", "b.geojson", "--kind", "boundaries"],
         ["b.geojson", "feature 1", "polygons"],
         {"b.geojson": _fc(({"code": "1"}, _pt(114.3, 30.05)))}),
    Case("bnd-zero-area", ["inspect", "b.geojson"], ["b.geojson", "feature 2", "area"],
         {"b.geojson": _fc(({"code": "1"}, _sq(114.3, 30.05)), ({"code": "2"}, {
             "type": "Polygon", "coordinates": [[[114.3, 30], [114.31, 30], [114.32, 30],
                                                 [114.3, 30]]]}))}),
    Case("bnd-gcj02-projected-file", ["inspect", "b.geojson", "--kind", "boundaries", "--crs",
                                      "gcj02"], ["b.geojson", "projected", "GCJ-02", "crs"],
         {"b.geojson": _projected(_units("1", "2"))}),
    Case("bnd-bd09-swapped", ["inspect", "b.geojson", "--kind", "boundaries", "--crs", "bd09"],
         ["b.geojson", "feature 1", "outside China", "swapped"],
         {"b.geojson": _fc(({"code": "1"}, {"type": "Polygon", "coordinates": [[
             [40.0, 80.0], [40.0, 80.01], [40.01, 80.01], [40.0, 80.0]]]}))}),
    Case("region-bnd-gcj02-projected", ["inspect", "r"], ["b.geojson", "projected", "crs"],
         {"r/region.toml": 'name = "r"\n[boundaries]\npath = "b.geojson"\ncrs = "gcj02"\n',
          "r/b.geojson": _projected(_units("1", "2"))}),
    Case("inspect-region-crs", ["inspect", D, "--crs", "gcj02"],
         ["--crs", "does not apply", "region", "region.toml"]),
    Case("inspect-network-crs", ["inspect", "r.osm", "--crs", "gcj02"],
         ["--crs", "does not apply", "network", "OSM"], {"r.osm": grid_osm()}),
    Case("inspect-beds-on-candidates", ["inspect", "c.csv", "--kind", "candidates", "--beds",
                                        "beds"], ["--beds", "does not apply", "candidates"],
         {"c.csv": CAND}),
    Case("region-cand-beds-key", ["inspect", "r"], ["region.toml", "'beds'", "[candidates]"],
         {"r/region.toml": REGION_B + '[candidates]\npath = "c.csv"\nbeds = "beds"\n',
          "r/c.csv": CAND}),
    Case("coverage-crs-without-facilities", ["coverage", D, "--crs", "gcj02", "--out", "out"],
         ["--crs", "--facilities", "region.toml"]),
    Case("bnd-csv", ["inspect", "b.csv", "--kind", "boundaries"],
         ["b.csv", "unknown format", ".geojson"], {"b.csv": "code,name\n1,a\n"}),
    Case("coverage-boundaries-missing", ["coverage", D, "--boundaries", "b.geojson",
                                         "--out", "out"], ["b.geojson", "not found"]),
    Case("coverage-boundaries-duplicate", ["coverage", D, "--boundaries", "b.geojson",
                                           "--out", "out"], ["b.geojson", "duplicate id '7'"],
         {"b.geojson": _units("7", "7")}),
    Case("coverage-boundaries-no-code", ["coverage", D, "--boundaries", "b.geojson",
                                         "--out", "out"], ["b.geojson", "code"],
         {"b.geojson": _fc(({"title": "a"}, _sq(114.3, 30)))}),
    Case("coverage-boundaries-empty", ["coverage", D, "--boundaries", "b.geojson",
                                       "--out", "out"], ["b.geojson", "no features"],
         {"b.geojson": _fc()}),
    Case("coverage-cli-level-unknown", ["coverage", D, "--level", "county_code", "--out", "out"],
         ["--level", "'county_code'", "district_code"]),
    Case("coverage-types-unknown", ["coverage", D, "--types", "hospitall", "--out", "out"],
         ["--types", "unknown facility type 'hospitall'"]),
    # ---- --encoding, on every command that takes it
    Case("enc-inspect-latin1-on-utf8", ["inspect", "f.csv", "--encoding", "latin-1"],
         ["f.csv", "latin-1", "UTF-8"], {"f.csv": FAC}),
    Case("enc-inspect-utf16-on-utf8", ["inspect", "f.csv", "--encoding", "utf-16"],
         ["f.csv", "utf-16"], {"f.csv": FAC}),
    Case("enc-inspect-utf8-on-gbk", ["inspect", "f.csv", "--encoding", "utf-8"],
         ["f.csv", "utf-8", "line 2"], {"f.csv": FAC.encode("gbk")}),
    Case("enc-inspect-cp1252-on-gbk", ["inspect", "f.csv", "--encoding", "cp1252"],
         ["f.csv", "cp1252", "GBK"], {"f.csv": FAC.encode("gbk")}),
    Case("enc-population-latin1", ["inspect", "p.csv", "--encoding", "latin-1"],
         ["p.csv", "latin-1", "UTF-8"], {"p.csv": "lon,lat,人口\n114.3,30.05,10\n"}),
    Case("enc-coverage-latin1", ["coverage", D, "--facilities", "f.csv", "--encoding",
                                 "latin-1", "--out", "out"], ["f.csv", "latin-1", "UTF-8"],
         {"f.csv": FAC}),
    Case("enc-coverage-utf8-on-gbk", ["coverage", D, "--facilities", "f.csv", "--encoding",
                                      "utf-8", "--out", "out"], ["f.csv", "utf-8", "line 2"],
         {"f.csv": FAC.encode("gbk")}),
    Case("enc-manifest-latin1", ["inspect", "r"], ["f.csv", "latin-1", "UTF-8"],
         {"r/region.toml": REGION_B + '[facilities]\npath = "f.csv"\nencoding = "latin-1"\n',
          "r/f.csv": FAC}),
    Case("enc-manifest-unknown", ["inspect", "r"], ["f.csv", "unknown text encoding 'big6'"],
         {"r/region.toml": REGION_B + '[facilities]\npath = "f.csv"\nencoding = "big6"\n',
          "r/f.csv": FAC}),
    Case("enc-manifest-not-text", ["inspect", "r"], ["region.toml", "facilities.encoding"],
         {"r/region.toml": REGION_B + '[facilities]\npath = "f.csv"\nencoding = 936\n',
          "r/f.csv": FAC}),
    Case("manifest-crs-not-text", ["inspect", "r"], ["region.toml", "candidates.crs"],
         {"r/region.toml": REGION_B + '[candidates]\npath = "c.csv"\ncrs = 4326\n',
          "r/c.csv": CAND}),
    # ---- geoplan compare
    Case("compare-empty-summary", ["compare", "r"], ["summary.json", "not a valid"],
         {"r/summary.json": b""}),
    Case("compare-not-utf8", ["compare", "r"], ["summary.json", "UTF-8"],
         {"r/summary.json": '{"scenario": "青山"}'.encode("gbk")}),
    Case("compare-models-table", ["compare", "r"], ["summary.json", "models", "list"],
         {"r/summary.json": '{"scenario": "s", "models": {"m": 1}}'}),
    Case("compare-scenario-number", ["compare", "r"], ["summary.json", "scenario", "text"],
         {"r/summary.json": '{"scenario": 3}'}),
    Case("compare-run-is-a-file", ["compare", "notes.txt"], ["notes.txt", "run folder"],
         {"notes.txt": "x"}),
    Case("compare-model-not-table", ["compare", "r"], ["summary.json", "models[0]", "table"],
         {"r/summary.json": '{"scenario": "s", "models": [3]}'}),
    Case("compare-out-is-a-file", ["compare", "r", "--out", "o.txt"], ["o.txt", "not a folder"],
         {"r/summary.json": '{"scenario": "s", "models": [{"name": "m", "share_before": 0.5}]}',
          "o.txt": "x"}),
    Case("compare-no-figures", ["compare", "r"], ["r", "no coverage or model figures"],
         {"r/summary.json": '{"scenario": "s", "coverage": [], "models": []}'}),
    # ---- geoplan inspect flags
    Case("inspect-kind-unknown", ["inspect", "f.csv", "--kind", "roads"],
         ["--kind", "'roads'", "network"], {"f.csv": FAC}),
    Case("inspect-values-unknown", ["inspect", "p.csv", "--values", "people"],
         ["--values", "'people'", "counts"], {"p.csv": "lon,lat,population\n114.3,30.05,1\n"}),
    Case("inspect-crs-unknown", ["inspect", "f.csv", "--crs", "EPSG:999999"],
         ["999999", "crs"], {"f.csv": FAC}),
    Case("inspect-vocabulary-missing", ["inspect", "f.csv", "--vocabulary", "v.toml"],
         ["v.toml"], {"f.csv": FAC}),
    Case("inspect-vocabulary-broken", ["inspect", "f.csv", "--vocabulary", "v.toml"],
         ["v.toml", "line"], {"f.csv": FAC, "v.toml": "[types.x\nlabel = 1\n"}),
    Case("inspect-boundaries-missing", ["inspect", "f.csv", "--boundaries", "b.geojson"],
         ["b.geojson", "not found"], {"f.csv": FAC}),
    Case("inspect-type-column-missing", ["inspect", "f.csv", "--type", "kind"],
         ["f.csv", "'kind'", "--type"], {"f.csv": FAC}),
    Case("inspect-beds-column-missing", ["inspect", "f.csv", "--beds", "nbeds"],
         ["f.csv", "'nbeds'", "--beds"], {"f.csv": FAC}),
    Case("inspect-lat-column-missing", ["inspect", "f.csv", "--lat", "wei"],
         ["f.csv", "'wei'", "--lat"], {"f.csv": FAC}),
    Case("command-unknown", ["maps", D], ["'maps'", "map"]),
    Case("optimize-solver-unknown", ["optimize", D, "--model", "p_median", "--solver",
                                     "gurobi"], ["--solver", "'gurobi'", "highs"]),
    Case("optimize-caps-text", ["optimize", D, "--model", "p_median", "--mode", "walk",
                                "--minutes", "15", "--p", "2", "--candidate-types",
                                "community building", "--max-new-per-unit", "two"],
         ["max_new_per_unit", "'two'"]),
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
    assert len({c.id for c in CASES}) == len(CASES) >= 150

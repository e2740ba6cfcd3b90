"""Fuzzing the doors a user's files come through: every reader and the scenario loader.

The rule: whatever the bytes, the answer is a result or one of geoplan's own errors
(:class:`~geoplan.GeoplanError`, with file and hint) - never a foreign exception, a
traceback from deep inside pandas, pyogrio or tomllib. Inputs are built near the real
shapes (a facility CSV with mutated cells, headers and encodings; GeoJSON with broken
geometry; scenario tables with values of every type in every key), so the search spends
its budget past the first parser. Bounded for CI (``HYPOTHESIS_PROFILE=ci``, the
default: derandomised); ``HYPOTHESIS_PROFILE=soak`` searches at random for longer.
"""

from __future__ import annotations

import json
import os
import tomllib
import warnings
from pathlib import Path

import pytest
from conftest import DEMO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoplan import GeoplanError

SOAK = os.environ.get("HYPOTHESIS_PROFILE") == "soak"
#: examples per fuzz test: 120 in CI, 3,000 in a soak; GEOPLAN_FUZZ_EXAMPLES sets another
#: count (a 10-minute soak: HYPOTHESIS_PROFILE=soak GEOPLAN_FUZZ_EXAMPLES=20000)
EXAMPLES = int(os.environ.get("GEOPLAN_FUZZ_EXAMPLES", 3000 if SOAK else 120))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

_CELLS = st.one_of(st.text(max_size=12), st.sampled_from(
    ["", "nan", "inf", "-1", "1e400", "114.3", "30.05", "200", "-91", "卫生院", "三级医院",
     "医保服务站", "0x1F", "  ", "1,5", "NULL", '"', "\t"]))
_HEADERS = st.lists(st.sampled_from(["id", "name", "type", "lon", "lat", "x", "y", "beds",
                                     "经度", "纬度", "名称", "类型", "床位", "capacity",
                                     "LON", "", "geometry", "wkt"]),
                    min_size=1, max_size=7)


@st.composite
def facility_files(draw) -> bytes:
    header = draw(_HEADERS)
    rows = draw(st.lists(st.lists(_CELLS, min_size=len(header), max_size=len(header) + 1),
                         max_size=5))
    sep = draw(st.sampled_from([",", "\t", ";"]))
    text = "\n".join([sep.join(header), *(sep.join(r) for r in rows)])
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk", "bom+gbk", "latin-1"]))
    if enc == "bom+gbk":
        return b"\xef\xbb\xbf" + text.encode("gbk", errors="replace")
    return text.encode(enc, errors="replace")


def _read_as_file(tmp_path: Path, name: str, data: str | bytes, fn, **kwargs) -> bool:
    """Write ``data`` to ``tmp_path/name`` and read it with ``fn``: own errors only.
    True when it read."""
    p = tmp_path / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return _only_own_errors(fn, p, **kwargs)


def _only_own_errors(fn, *args, **kwargs) -> bool:
    """Call ``fn``; True when it read, False on one of geoplan's own errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(*args, **kwargs)
        except GeoplanError:
            return False
    return True


@FUZZ
@given(data=facility_files(), crs=st.sampled_from(["wgs84", "gcj02", "bd09", None]))
def test_facility_reader_raises_only_its_own_errors(tmp_path: Path, data, crs):
    from geoplan.inputs.readers import read_facilities

    _read_as_file(tmp_path, "f.csv", data, read_facilities, crs=crs)


@FUZZ
@given(data=facility_files())
def test_candidate_reader_raises_only_its_own_errors(tmp_path: Path, data):
    from geoplan.inputs.readers import read_candidates

    _read_as_file(tmp_path, "c.csv", data, read_candidates, crs="wgs84")


_COORD = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-500, 500),
                   st.text(max_size=3), st.none())


@st.composite
def geojson_files(draw) -> str:
    ring = draw(st.lists(st.lists(_COORD, min_size=0, max_size=3), max_size=6))
    gtype = draw(st.sampled_from(["Polygon", "MultiPolygon", "Point", "LineString", "Blob"]))
    coords = [ring] if gtype == "Polygon" else ([[ring]] if gtype == "MultiPolygon" else ring)
    props = draw(st.dictionaries(st.sampled_from(["code", "name", "adcode", "level", "x"]),
                                 _CELLS, max_size=4))
    feat = {"type": "Feature", "properties": props,
            "geometry": {"type": gtype, "coordinates": coords}}
    doc = {"type": "FeatureCollection", "features": draw(st.lists(st.just(feat), max_size=3))}
    text = json.dumps(doc, allow_nan=True)
    cut = draw(st.integers(0, len(text)))
    return text if draw(st.booleans()) else text[:cut]


@FUZZ
@given(text=geojson_files(), crs=st.sampled_from([None, "gcj02", "wgs84"]))
def test_boundary_reader_raises_only_its_own_errors(tmp_path: Path, text, crs):
    from geoplan.inputs.readers import read_boundaries

    _read_as_file(tmp_path, "b.geojson", text, read_boundaries, crs=crs)


_BASE = tomllib.loads(f"""name = "fuzz"
region = "{DEMO.as_posix()}"
maps = false
[[coverage]]
name = "a"
types = ["insurance_service_point"]
modes = ["walk"]
minutes = [15]
[[model]]
name = "m"
kind = "max_covering"
existing_types = ["insurance_service_point"]
candidate_types = ["community building"]
mode = "walk"
minutes = 15
p = 3
""")
_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=10),
              st.floats(allow_nan=True, allow_infinity=True),
              st.sampled_from(["walk", "p_median", "set_covering", "医保服务站", "town",
                               "district_code", "S0001", "../x.toml"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)
_KEYS = ["name", "region", "language", "maps", "output", "kind", "mode", "minutes", "p",
         "types", "modes", "existing_types", "candidate_types", "budget", "time_limit",
         "level", "demand_levels", "force_open", "max_new_per_unit", "target_share",
         "urban_minutes", "travel", "inputs", "coverage", "model", "profiles", "gap"]


def _toml_value(v) -> str:
    if v is None:
        return '""'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if v != v else ("inf" if v == float("inf") else
                                     "-inf" if v == float("-inf") else repr(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{ " + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(x)}"
                            for k, x in v.items()) + " }"


def _toml(doc: dict) -> str:
    lines = []
    for k, v in doc.items():
        if k not in ("coverage", "model") or not isinstance(v, list) or not all(
                isinstance(t, dict) for t in v):
            lines.insert(0, f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(v)}")
    for table in ("coverage", "model"):
        if isinstance(doc.get(table), list) and all(isinstance(t, dict) for t in doc[table]):
            for t in doc[table]:
                lines.append(f"[[{table}]]")
                lines += [f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(x)}"
                          for k, x in t.items()]
    return "\n".join(lines) + "\n"


@st.composite
def scenario_files(draw) -> str:
    doc = json.loads(json.dumps(_BASE))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["top", "coverage", "model"]))
        tables = doc.get(where) if where != "top" else None
        table = tables[0] if isinstance(tables, list) and tables and isinstance(
            tables[0], dict) else doc
        key = draw(st.sampled_from(_KEYS))
        if draw(st.booleans()) or key not in table:
            table[key] = draw(_VALUES)
        else:
            del table[key]
    return _toml(doc)


@FUZZ
@given(text=scenario_files())
def test_scenario_loader_raises_only_its_own_errors(tmp_path: Path, text):
    from geoplan.scenario.spec import read_scenario

    _read_as_file(tmp_path, "s.toml", text, read_scenario)


_POP_HEADERS = st.lists(st.sampled_from(["lon", "lat", "x", "y", "population", "pop", "人口",
                                         "经度", "纬度", "admin_code", "", "geometry"]),
                        min_size=1, max_size=5)


_POP_CELL = {"lon": st.floats(114.0, 114.05).map(str), "lat": st.floats(30.0, 30.05).map(str),
             "population": st.floats(0, 500).map(lambda v: f"{v:.1f}")}


@st.composite
def population_tables(draw) -> bytes:
    real = draw(st.booleans())              # near-real (lon, lat, population) or anything
    header = ["lon", "lat", "population"] if real else draw(_POP_HEADERS)
    cell = [st.one_of(_POP_CELL.get(h, _CELLS), _CELLS) if real else st.one_of(
        _CELLS, st.sampled_from(["114.30", "30.06", "12.5", "0", "1e9", "-3"]))
        for h in header]
    rows = draw(st.lists(st.tuples(*cell).map(list), min_size=int(real), max_size=6))
    text = "\n".join([",".join(header), *(",".join(r) for r in rows)])
    return text.encode(draw(st.sampled_from(["utf-8", "gbk", "utf-8-sig"])), errors="replace")


@FUZZ
@given(data=population_tables(), crs=st.sampled_from([None, "gcj02", "EPSG:32650"]),
       values=st.sampled_from(["counts", "density"]))
def test_population_reader_raises_only_its_own_errors(tmp_path: Path, data, crs, values):
    from geoplan.inputs.readers import read_population

    _read_as_file(tmp_path, "pop.csv", data, read_population, crs=crs, values=values)


@FUZZ
@given(text=geojson_files(), column=st.sampled_from([None, "x", "code"]))
def test_population_grid_reader_raises_only_its_own_errors(tmp_path: Path, text, column):
    from geoplan.inputs.readers import read_population

    _read_as_file(tmp_path, "grid.geojson", text.replace('"name"', '"population"'),
                  read_population, column=column)


_TAGS = st.dictionaries(
    st.sampled_from(["highway", "maxspeed", "oneway", "access", "motor_vehicle", "foot",
                     "bridge", "junction", "name"]),
    st.sampled_from(["residential", "primary", "footway", "construction", "yes", "no",
                     "-1", "private", "50", "30 mph", "none", "", "&amp;", "roundabout"]),
    max_size=4)


_LON = st.one_of(st.floats(114.0, 114.01), _COORD)
_LAT = st.one_of(st.floats(30.0, 30.01), _COORD)


@st.composite
def osm_files(draw) -> str:
    broken = draw(st.integers(0, 3)) == 0      # bad coordinates in one file of four
    coords = draw(st.lists(st.tuples(_LON, _LAT) if broken else st.tuples(
        st.floats(114.0, 114.01), st.floats(30.0, 30.01)), max_size=7))
    nodes = [(draw(st.sampled_from([i + 1, i + 1, -i])), x, y)
             for i, (x, y) in enumerate(coords)]
    tags = st.one_of(_TAGS, _TAGS.map(lambda t: {"highway": "residential", **t}))
    ways = draw(st.lists(st.tuples(st.integers(90, 95),
                                   st.lists(st.integers(0, 7), max_size=5), tags),
                         max_size=4))
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    out += [f'<node id="{i}" version="1" lat="{y}" lon="{x}"/>' for i, x, y in nodes]
    for wid, refs, tags in ways:
        body = "".join(f'<nd ref="{r}"/>' for r in refs)
        body += "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        out.append(f'<way id="{wid}" version="1">{body}</way>')
    out.append("</osm>")
    text = "\n".join(out)
    return text[:draw(st.integers(0, len(text)))] if draw(st.integers(0, 3)) == 0 else text


@FUZZ
@given(text=osm_files())
def test_osm_reader_raises_only_its_own_errors(tmp_path: Path, text):
    from geoplan.inputs.readers import read_network

    _read_as_file(tmp_path, "roads.osm", text, read_network)


_MANIFEST = tomllib.loads("""name = "fuzz"
[boundaries]
path = "b.geojson"
code = "code"
[population]
path = "pop.tif"
[facilities]
path = "f.csv"
crs = "gcj02"
[candidates]
path = "c.csv"
cost = "cost"
[network]
path = "roads.osm"
""")
_MANIFEST_KEYS = ["name", "crs", "path", "code", "column", "values", "layer", "encoding",
                  "vocabulary", "density_limit", "place", "bbox", "cost", "beds", "lon",
                  "boundaries", "population", "facilities", "candidates", "network", "roads"]


@st.composite
def manifests(draw) -> str:
    doc = json.loads(json.dumps(_MANIFEST))
    for _ in range(draw(st.integers(1, 4))):
        section = draw(st.sampled_from(["", *(k for k in _MANIFEST if k != "name")]))
        table = doc.get(section) if section else doc
        if not isinstance(table, dict):
            table = doc
        key = draw(st.sampled_from(_MANIFEST_KEYS))
        if draw(st.booleans()) or key not in table:
            table[key] = draw(_VALUES)
        else:
            del table[key]
    lines = [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in doc.items()
             if not isinstance(v, dict)]
    for k, v in doc.items():
        if isinstance(v, dict):
            lines.append(f"[{json.dumps(k)}]")
            lines += [f"{json.dumps(a, ensure_ascii=False)} = {_toml_value(b)}"
                      for a, b in v.items() if not isinstance(b, dict)]
    return "\n".join(lines) + "\n"


@FUZZ
@given(text=manifests())
def test_region_manifest_reader_raises_only_its_own_errors(tmp_path: Path, text):
    from geoplan.inputs.region import read_manifest

    for name in ("b.geojson", "pop.tif", "f.csv", "c.csv", "roads.osm"):
        (tmp_path / name).write_bytes(b"")
    _read_as_file(tmp_path, "region.toml", text, read_manifest)


@FUZZ
@given(table=st.dictionaries(st.text(max_size=8), _VALUES, max_size=3))
def test_vocabulary_reader_raises_only_its_own_errors(tmp_path: Path, table):
    from geoplan.inputs.facility_types import load_vocabulary

    lines = []
    for code, spec in table.items():
        lines.append(f"[{json.dumps(code, ensure_ascii=False)}]")
        items = spec.items() if isinstance(spec, dict) else [("zh", spec)]
        lines += [f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(v)}" for k, v in items]
    _read_as_file(tmp_path, "types.toml", "\n".join(lines) + "\n", load_vocabulary)


def test_the_fuzzers_reach_past_the_parsers(tmp_path: Path):
    """The generators are not all rejected at the first gate: the unmutated scenario, and
    some generated road and population files, read successfully (so the search tests the
    checks behind the parsers)."""
    from geoplan.scenario.spec import read_scenario

    p = tmp_path / "s.toml"
    p.write_text(_toml(_BASE), encoding="utf-8")
    assert read_scenario(p).models[0].p == 3
    from geoplan.inputs.readers import read_network, read_population

    # the road and population generators produce files that read, too (no shrinking:
    # the inner test never fails, it only counts; derandomised in every profile, as a
    # random draw of a few hundred may hold no readable road file)
    read_ok: list[str] = []

    @settings(max_examples=300, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(t=osm_files(), b=population_tables())
    def sample(t, b):
        if _read_as_file(tmp_path, "r.osm", t, read_network):
            read_ok.append("osm")
        if _read_as_file(tmp_path, "p.csv", b, read_population):
            read_ok.append("pop")

    sample()
    assert {"osm", "pop"} <= set(read_ok), read_ok
    assert pytest.importorskip("hypothesis")

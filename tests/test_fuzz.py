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
FUZZ = settings(max_examples=3000 if SOAK else 120, deadline=None,
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


def _only_own_errors(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(*args, **kwargs)
        except GeoplanError:
            pass


@FUZZ
@given(data=facility_files(), crs=st.sampled_from(["wgs84", "gcj02", "bd09", None]))
def test_facility_reader_raises_only_its_own_errors(tmp_path: Path, data, crs):
    from geoplan.inputs.readers import read_facilities

    p = tmp_path / "f.csv"
    p.write_bytes(data)
    _only_own_errors(read_facilities, p, crs=crs)


@FUZZ
@given(data=facility_files())
def test_candidate_reader_raises_only_its_own_errors(tmp_path: Path, data):
    from geoplan.inputs.readers import read_candidates

    p = tmp_path / "c.csv"
    p.write_bytes(data)
    _only_own_errors(read_candidates, p, crs="wgs84")


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

    p = tmp_path / "b.geojson"
    p.write_text(text, encoding="utf-8")
    _only_own_errors(read_boundaries, p, crs=crs)


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

    p = tmp_path / "s.toml"
    p.write_text(text, encoding="utf-8")
    _only_own_errors(read_scenario, p)


def test_the_fuzzers_reach_past_the_parsers(tmp_path: Path):
    """The generators are not all rejected at the first gate: some facility files and
    some mutated scenarios read successfully (so the search tests the checks behind)."""
    from geoplan.scenario.spec import read_scenario

    p = tmp_path / "s.toml"
    p.write_text(_toml(_BASE), encoding="utf-8")
    assert read_scenario(p).models[0].p == 3
    assert pytest.importorskip("hypothesis")

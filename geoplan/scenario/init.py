"""``geoplan init``: a region folder (``region.toml`` + starter scenarios) from a planner's files.

Why: a planner has a facility list copied from Gaode (GBK, Chinese headers, GCJ-02), a
WorldPop raster, admin boundaries and an OSM extract, named as they came. Writing
``region.toml`` by hand means knowing every key and which column geoplan would pick;
``geoplan init`` reads each file with geoplan's own readers, writes the manifest with the
columns it *matched* (so the planner sees and can edit them), and writes starter
scenarios for the seed questions, parametrised on what the region holds and each checked
the way ``geoplan run`` checks it at load.

What it does, in order (nothing is written until every check has passed):

1. every file is checked (exists, a format geoplan reads) and each layer's header is read
   with the readers' own helpers; columns are matched with the readers' synonyms
   (:data:`geoplan.inputs.readers.SYNONYMS`, :func:`geoplan.inputs._validate.find_column`),
   or taken from ``--<layer>-columns KEY=COLUMN``; a required column that matches nothing
   is refused, naming the file, the columns found and the option to pass;
2. a check copy of the region (the same manifest with absolute paths) is loaded with
   :func:`geoplan.inputs.region.load_region` (boundaries, facilities, candidates): the
   facility types, bed counts, candidate site types and boundary levels it holds decide
   the starter scenarios;
3. each starter scenario is read with :func:`geoplan.scenario.spec.read_scenario`, which
   resolves it against the region (:mod:`geoplan.scenario.resolve`, the checks of
   ``geoplan run``); a question whose needs the region does not meet (no beds column, no
   candidate sites, no urban/rural level, ...) is written commented out with the reason,
   and a file with nothing left ends in ``.toml.disabled`` so ``geoplan run`` skips it;
4. the caller (the CLI) loads the whole check copy as ``geoplan inspect`` does, then
   :func:`write_init` writes ``region.toml`` and ``scenarios/`` all at once
   (:func:`geoplan._atomic.staged_files`: every file or none).

Data files are referenced, never copied: paths relative to the region folder when the
file lies inside it, else absolute.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from geoplan._errors import GeoplanInputError, GeoplanWarning
from geoplan.inputs import readers as _readers

__all__ = ["COLUMN_KEYS", "InitPlan", "LayerMatch", "RegionFacts", "check_copy", "describe",
           "parse_columns", "plan_init", "write_init"]

#: Column keys each layer takes (``--<layer>-columns KEY=COLUMN``): the keys of its table in
#: ``region.toml`` (``population``'s is written ``column``). The point layers' are their
#: readers' fields (``readers.FACILITY_FIELDS`` / ``CANDIDATE_FIELDS``, which
#: ``region.toml`` accepts); the tuples after them are those of readers without the lists.
COLUMN_KEYS: dict[str, tuple[str, ...]] = {
    "facilities": tuple(getattr(_readers, "FACILITY_FIELDS", (
        "id", "name", "type", "beds", "capacity", "admin", "lon", "lat", "x", "y"))),
    "candidates": tuple(getattr(_readers, "CANDIDATE_FIELDS", (
        "id", "name", "type", "cost", "capacity", "lon", "lat", "x", "y"))),
    "boundaries": ("code", "name"),
    "population": ("population",),
}

#: What each column key means (the comment written beside it in ``region.toml``).
_MEANING = {
    ("facilities", "id"): "unique id of each facility",
    ("facilities", "name"): "facility name (maps, tables)",
    ("facilities", "type"): "facility type: a code, Chinese/English label or alias of the "
                            "type vocabulary (三级医院, 乡镇卫生院, 村卫生室, ...)",
    ("facilities", "beds"): "bed count (required for hospitals; beds per 1,000)",
    ("facilities", "capacity"): "service capacity (capacity-aware coverage)",
    ("facilities", "admin"): "admin unit code from the file (kept where a point lies in "
                             "no unit)",
    ("candidates", "id"): "unique id of each site (force_open / force_closed name these)",
    ("candidates", "name"): "site name (maps, tables)",
    ("candidates", "type"): "site type (candidate_types / new_site_types in scenarios)",
    ("candidates", "cost"): "fixed cost of opening the site, 万元 (cheapest plans, "
                            "budgets)",
    ("candidates", "capacity"): "service capacity of a new site",
    ("boundaries", "code"): "unit code column (becomes admin_code)",
    ("boundaries", "name"): "unit name column (becomes admin_name)",
    ("population", "population"): "people per cell (or per km² with values = \"density\")",
}
_MEANING[("facilities", "cost")] = "cost of upgrading the facility (万元)"
for _layer in ("facilities", "candidates"):
    _MEANING[(_layer, "name_en")] = "English name (pages in English)"
    _MEANING[(_layer, "address")] = "address (popups, tables)"
    _MEANING[(_layer, "admin_name")] = "admin unit name from the file"
    _MEANING.setdefault((_layer, "admin"), "admin unit code from the file")
    _MEANING[(_layer, "lon")] = "longitude column"
    _MEANING[(_layer, "lat")] = "latitude column"
    _MEANING[(_layer, "x")] = "x (easting) column, in the layer's crs"
    _MEANING[(_layer, "y")] = "y (northing) column, in the layer's crs"

#: Facility type codes the starter scenarios use (the vocabulary's, see facility_types.toml).
ISP, RRC, THC, EMS = ("insurance_service_point", "rural_regional_centre",
                      "township_health_centre", "emergency_station")
#: Hospitals that can take more beds (scenario 03), in the demo's order.
BED_TYPES = ("tertiary_hospital", "secondary_hospital", "primary_hospital", "tcm_hospital",
             THC, RRC)
#: Hosts of function centres (scenario 04), in the demo's order.
HOST_TYPES = ("tertiary_hospital", "secondary_hospital", "primary_hospital", "tcm_hospital",
              RRC, THC)
#: Values of the boundaries' ``level`` column meaning urban units (p-center standards)
#: and rural units (regional centres), as the demo and Chinese data write them.
URBAN_LEVELS = ("subdistrict", "街道")
RURAL_LEVELS = ("town", "township", "镇", "乡", "乡镇")


# --------------------------------------------------------------------------- what was matched


@dataclass
class LayerMatch:
    """One layer as ``geoplan init`` matched it.

    Attributes
    ----------
    layer
        ``boundaries``, ``population``, ``facilities``, ``candidates`` or ``network``.
    path
        The file (absolute), or None for ``network`` downloaded by ``place``.
    options
        Keys written to the layer's table besides ``path`` and the columns (``crs``,
        ``encoding``, ``values``, ``vocabulary``, ``place``), in order.
    columns
        Column key -> the file's column, as matched (written explicitly).
    header
        The columns of the file (empty for rasters and networks).
    missing
        Optional column keys that matched nothing.
    crs
        How the layer's coordinates are read (for the summary).
    encoding
        The text encoding detected or given (tables), else None.
    notes
        Comment lines written under the layer's table (what else was found).
    """

    layer: str
    path: Path | None
    options: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    crs: str = ""
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class RegionFacts:
    """What the region holds, as the starter scenarios need it.

    Attributes
    ----------
    types
        Facility type code -> number of facilities.
    has_beds
        Whether the facilities have a bed column.
    site_types
        Candidate site type -> number of sites (empty without candidates or a type column).
    site_type_column
        The candidates' column of site types (``site_type`` or ``type``), if any.
    n_candidates
        Candidate sites in all.
    level_columns
        Boundary columns a scenario's ``level`` may name (``admin_code``, ``*_code``).
    levels
        Values of the boundaries' ``level`` column (empty without one).
    """

    types: dict[str, int]
    has_beds: bool
    site_types: dict[str, int]
    site_type_column: str | None
    n_candidates: int
    level_columns: list[str]
    levels: list[str]


@dataclass
class InitPlan:
    """Everything ``geoplan init`` will write, checked.

    Attributes
    ----------
    folder
        The region folder (absolute).
    layers
        Layer name -> :class:`LayerMatch`, in manifest order.
    name, name_zh
        The region's display names.
    facts
        :class:`RegionFacts` of the region.
    scenarios
        The starter scenarios (file name -> text) that validated.
    left_out
        File name -> reasons of the questions left out (commented out), per file.
    force
        Whether existing files may be replaced.
    """

    folder: Path
    layers: dict[str, LayerMatch]
    name: str
    name_zh: str | None
    facts: RegionFacts | None = None
    scenarios: dict[str, str] = field(default_factory=dict)
    left_out: dict[str, list[str]] = field(default_factory=dict)
    force: bool = False

    @property
    def manifest(self) -> Path:
        """The ``region.toml`` to write."""
        return self.folder / "region.toml"

    def manifest_text(self, *, absolute: bool = False) -> str:
        """The ``region.toml`` text (``absolute``: every path absolute, for a check copy)."""
        return _manifest_text(self, absolute=absolute)

    def files(self) -> dict[str, str]:
        """Relative path -> text of every file to write."""
        out = {"region.toml": self.manifest_text()}
        out.update({f"scenarios/{name}": text for name, text in self.scenarios.items()})
        return out


# --------------------------------------------------------------------------- options


def parse_columns(layer: str, items: Sequence[str] | None) -> dict[str, str]:
    """``--<layer>-columns`` values: ``KEY=COLUMN`` items, several per item split on commas.

    Raises
    ------
    GeoplanInputError
        An item without ``=``, an empty key or column, or a key the layer does not take.
    """
    flag = f"--{layer}-columns"
    allowed = COLUMN_KEYS[layer]
    out: dict[str, str] = {}
    for item in items or ():
        for part in str(item).split(","):
            if not part.strip():
                continue
            key, sep, col = part.partition("=")
            key, col = key.strip().lower(), col.strip()
            if not sep or not key or not col:
                raise GeoplanInputError(f"expected KEY=COLUMN, got {part.strip()!r}", field=flag,
                                        hint=f"e.g. {flag} {allowed[0]}=编号,{allowed[-1]}=...")
            if key not in allowed:
                raise GeoplanInputError(f"unknown column key '{key}' for the {layer}",
                                        field=flag, hint=f"keys: {', '.join(allowed)}")
            out[key] = col
    return out


def _crs_option(value: str | None, flag: str) -> tuple[str | None, bool]:
    """(the manifest's crs value, whether coordinates are lon/lat) of a ``--crs`` option."""
    from geoplan.inputs.studyarea import parse_crs

    if value is None or not str(value).strip():
        return None, True
    text = str(value).strip()
    if text.lower().replace("-", "").replace(" ", "") in ("wgs84", "epsg:4326", "4326", "gps"):
        return "EPSG:4326", True
    parsed = parse_crs(text, field=flag)
    if isinstance(parsed, str):          # gcj02 / bd09, canonical name
        return parsed, True
    return text, bool(parsed.is_geographic)


def _file(value: Any, layer: str, flag: str) -> Path:
    """A given file, checked as every reader checks it; the option is named in the error."""
    from geoplan.inputs import _validate as v

    try:
        return v.check_file(Path(str(value)).expanduser()).resolve()
    except GeoplanInputError as exc:
        raise GeoplanInputError(exc.reason, path=exc.path, field=flag,
                                hint=f"check the path given to {flag} (relative paths are "
                                     "from the current folder)") from None


def _vector_fields(p: Path, layer: str) -> tuple[list[str], str | None]:
    """The attribute names and CRS of a GIS layer, from its header (pyogrio)."""
    import pyogrio

    try:
        info = pyogrio.read_info(p)
    except Exception as exc:  # pyogrio raises several types; all mean "unreadable"
        msg = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise GeoplanInputError(f"cannot read the file as a GIS layer ({msg})", path=p,
                                field=f"--{layer}",
                                hint="check that the file is complete and in a GIS format "
                                     "(GeoJSON, GeoPackage, Shapefile with .shx/.dbf/.prj)"
                                ) from None
    return [str(f) for f in info["fields"]], (str(info["crs"]) if info.get("crs") else None)


def _text_header(p: Path, encoding: str | None) -> tuple[list[str], str]:
    """The header of a text table (read by the readers' own table reader) and a label of
    its encoding: the one given, else the first of UTF-8 and GBK/GB18030 that decodes."""
    from geoplan.inputs import _validate as v

    df = v.read_text_table(p, encoding)         # the readers' checks and messages
    if encoding:
        return list(df.columns), f"{encoding} (given)"
    raw = p.read_bytes()
    for enc, label in (("utf-8-sig", "UTF-8"), ("gb18030", "GBK/GB18030")):
        try:
            raw.decode(enc)
        except UnicodeDecodeError:
            continue
        return list(df.columns), f"{label} (detected)"
    return list(df.columns), "GBK/GB18030 (detected)"   # decode_text read it: a BOM + GBK


def _synonyms(layer: str, key: str) -> tuple[str, ...]:
    if layer == "boundaries":
        return _readers.SYNONYMS["code" if key == "code" else "unit_name"]
    return _readers.SYNONYMS[key]


def _cost_header(header: Sequence[str]) -> str | None:
    """The column the readers take as the cost when none is named: the first cost header
    (the readers' own test, which also knows headers ending in a unit: 建设费用万元)."""
    is_cost = getattr(_readers, "_cost_unit", None)
    if is_cost is None:                  # readers matching costs by synonyms only
        return None
    return next((str(c) for c in header if is_cost(c) is not None), None)


def _match(layer: str, header: list[str], keys: Sequence[str], given: Mapping[str, str],
           path: Path) -> dict[str, str]:
    """Key -> column for each key that matches (given names must exist, exactly)."""
    import pandas as pd

    from geoplan.inputs import _validate as v

    frame = pd.DataFrame(columns=header)
    out: dict[str, str] = {}
    for key in keys:
        col = v.find_column(frame, given.get(key), _synonyms(layer, key))
        if col is None and key == "cost" and given.get(key) is None:
            col = _cost_header(header)
        if col is None and given.get(key) is not None:
            raise GeoplanInputError(
                f"no column '{given[key]}' (given for {key} with --{layer}-columns); columns "
                f"found: {', '.join(header)}", path=path, field=key,
                hint="give a column of the header exactly as written (case and spaces "
                     "count)")
        if col is not None:
            out[key] = str(col)
    return out


def _refuse_missing(layer: str, key: str, what: str, header: list[str], path: Path,
                    option: bool = True) -> GeoplanInputError:
    looked = ", ".join(f"'{s}'" for s in _synonyms(layer, key)[:8])
    example = header[0] if header else "COLUMN"
    how = (f"name it: --{layer}-columns {key}=COLUMN (e.g. {key}={example}), or rename the "
           "column in the file" if option else
           f"rename the column to one of {looked} in the file")
    return GeoplanInputError(
        f"no column for {what} matched (looked for {looked}); columns found: "
        f"{', '.join(header) or '(none)'}", path=path, field=key,
        hint=how + "; the name is then written to region.toml, where you can edit it")


def _match_coords(layer: str, header: list[str], coords: tuple[str, str],
                  given: Mapping[str, str], p: Path) -> dict[str, str]:
    """The coordinate columns of a table: lon/lat (or x/y in a projected crs); like the
    readers, lon/lat fall back on x/y columns when neither is named."""
    xy = _match(layer, header, coords, given, p)
    if len(xy) < 2 and coords == ("lon", "lat") and not any(k in given for k in coords):
        alt = _match(layer, header, ("x", "y"), given, p)
        if len(alt) == 2:
            xy = {"lon": alt["x"], "lat": alt["y"]}
    for key in coords:
        if key not in xy:
            what = {"lon": "longitude", "lat": "latitude", "x": "x", "y": "y"}[key]
            raise _refuse_missing(layer, key, f"the {what}", header, p)
    return xy


def _match_points(layer: str, value: Any, crs: str | None, encoding: str | None,
                  given: Mapping[str, str], vocabulary: Path | None,
                  crs_flag: str = "--crs") -> LayerMatch:
    from geoplan.inputs import _validate as v

    p = _file(value, layer, f"--{layer}")
    suffix = v.suffix_of(p)
    crs_value, lonlat = _crs_option(crs, crs_flag)
    m = LayerMatch(layer, p)
    if crs_value is not None:
        m.options["crs"] = crs_value
    if suffix in v.TABLE_SUFFIXES:
        m.header, m.encoding = _text_header(p, encoding)
        if encoding:
            m.options["encoding"] = encoding
        coords = ("lon", "lat") if lonlat else ("x", "y")
    elif suffix in v.VECTOR_SUFFIXES:
        m.header, file_crs = _vector_fields(p, layer)
        coords = ()
        if crs_value is None and file_crs is None:
            raise GeoplanInputError(
                "the layer has no coordinate reference system (for a shapefile: the .prj "
                "file is missing)", path=p, field="crs",
                hint=f"give it: --{layer}-crs EPSG:4326 (or gcj02 for Gaode coordinates)")
        m.crs = crs_value or f"{file_crs} (the file's)"
    else:
        raise v.unknown_format(p, layer, v.TABLE_SUFFIXES | v.VECTOR_SUFFIXES)
    attrs = [k for k in COLUMN_KEYS[layer] if k not in ("lon", "lat", "x", "y")]
    m.columns = _match(layer, m.header, attrs, given, p)
    if coords:
        m.columns.update(_match_coords(layer, m.header, coords, given, p))
        m.crs = m.crs or (crs_value or "EPSG:4326 (WGS-84 lon/lat, the default)")
    if layer == "facilities" and "type" not in m.columns:
        raise _refuse_missing(layer, "type", "the facility type", m.header, p)
    m.missing = [k for k in attrs if k not in m.columns]
    if layer == "facilities" and vocabulary is not None:
        m.options["vocabulary"] = _file(vocabulary, layer, "--vocabulary")
    return m


def _match_boundaries(value: Any, crs: str | None, given: Mapping[str, str]) -> LayerMatch:
    from geoplan.inputs import _validate as v

    p = _file(value, "boundaries", "--boundaries")
    if v.suffix_of(p) not in v.VECTOR_SUFFIXES:
        raise v.unknown_format(p, "boundaries", v.VECTOR_SUFFIXES)
    m = LayerMatch("boundaries", p)
    m.header, file_crs = _vector_fields(p, "boundaries")
    crs_value, _ = _crs_option(crs, "--boundaries-crs")
    if crs_value is not None:
        m.options["crs"] = crs_value
    elif file_crs is None:
        raise GeoplanInputError(
            "the boundaries have no coordinate reference system (for a shapefile: the .prj "
            "file is missing)", path=p, field="crs",
            hint="give it: --boundaries-crs EPSG:4326 (or the file's EPSG code)")
    m.crs = crs_value or f"{file_crs} (the file's)"
    m.columns = _match("boundaries", m.header, COLUMN_KEYS["boundaries"], given, p)
    if "code" not in m.columns:
        raise _refuse_missing("boundaries", "code", "the unit code", m.header, p)
    m.missing = [k for k in COLUMN_KEYS["boundaries"] if k not in m.columns]
    return m


def _match_population(value: Any, crs: str | None, encoding: str | None,
                      given: Mapping[str, str], values: str) -> LayerMatch:
    from geoplan.inputs import _validate as v

    p = _file(value, "population", "--population")
    suffix = v.suffix_of(p)
    m = LayerMatch("population", p)
    crs_value, _ = _crs_option(crs, "--population-crs")
    if crs_value is not None:
        m.options["crs"] = crs_value
    if suffix in v.RASTER_SUFFIXES:
        m.crs, m.notes = _raster_note(p, crs_value)
    elif suffix in v.TABLE_SUFFIXES | v.VECTOR_SUFFIXES:
        if suffix in v.TABLE_SUFFIXES:
            m.header, m.encoding = _text_header(p, encoding)
            if encoding:
                m.options["encoding"] = encoding
            for key in ("lon", "lat"):       # population tables: lon/lat by these names only
                if not _match("population", m.header, (key,), {}, p):
                    raise _refuse_missing("population", key, f"the {key}", m.header, p,
                                          option=False)
            m.crs = crs_value or "EPSG:4326 (WGS-84 lon/lat, the default)"
        else:
            m.header, file_crs = _vector_fields(p, "population")
            m.crs = crs_value or f"{file_crs} (the file's)"
        m.columns = _match("population", m.header, ("population",), given, p)
        if "population" not in m.columns:
            raise _refuse_missing("population", "population", "the population count",
                                  m.header, p)
    else:
        raise v.unknown_format(p, "population", v.RASTER_SUFFIXES | v.TABLE_SUFFIXES
                               | v.VECTOR_SUFFIXES)
    if values == "density":
        m.options["values"] = "density"
    return m


def _raster_note(p: Path, given: str | None) -> tuple[str, list[str]]:
    """The raster's CRS and a comment line on its grid (from its header)."""
    import rasterio
    from rasterio.errors import RasterioIOError

    try:
        with rasterio.open(p) as src:
            crs = src.crs.to_string() if src.crs else None
            res = src.res
            size, nodata = f"{src.width:,} x {src.height:,} cells", src.nodata
    except RasterioIOError as exc:
        raise GeoplanInputError(f"cannot read the raster ({str(exc)[:200]})", path=p,
                                field="--population",
                                hint="check that the file is a complete GeoTIFF") from None
    if crs is None and given is None:
        raise GeoplanInputError("the raster has no coordinate reference system", path=p,
                                field="crs", hint="set it, e.g. gdal_edit.py -a_srs EPSG:4326 "
                                "file.tif (WorldPop rasters are EPSG:4326), or give "
                                "--population-crs")
    note = (f"raster: {crs or 'no CRS of its own'}, {size} of {res[0]:.6g} x {res[1]:.6g}"
            f"{' degrees' if crs == 'EPSG:4326' else ''}"
            + (f", nodata {nodata:g}" if nodata is not None else ", no nodata value"))
    return (given if given else f"{crs} (the raster's)"), [note]


def _match_network(roads: Any, place: str | None) -> LayerMatch:
    from geoplan.inputs import _validate as v

    if roads is not None and place is not None:
        raise GeoplanInputError("give --roads or --place, not both", field="--place",
                                hint="--roads FILE reads an extract offline; --place downloads "
                                     "OpenStreetMap by name (online)")
    if roads is None and (place is None or not str(place).strip()):
        raise GeoplanInputError(
            "no road network given", field="--roads",
            hint="give --roads FILE (an OpenStreetMap extract: .osm, .osm.bz2, .osm.pbf, or "
                 "GraphML; e.g. from download.geofabrik.de), or --place \"County, Province, "
                 "China\" to download it with osmnx (online)")
    if place is not None:
        m = LayerMatch("network", None, options={"place": str(place).strip()})
        m.crs = "EPSG:4326 (OpenStreetMap)"
        return m
    p = _file(roads, "network", "--roads")
    if v.suffix_of(p) not in v.NETWORK_SUFFIXES:
        raise v.unknown_format(p, "a road network (--roads)", v.NETWORK_SUFFIXES)
    m = LayerMatch("network", p)
    m.crs = "EPSG:4326 (OpenStreetMap)" if v.suffix_of(p) != ".graphml" else "the graph's"
    return m


# --------------------------------------------------------------------------- region.toml


def _toml(value: Any) -> str:
    """A TOML value (strings as JSON strings: the same escapes, Chinese kept)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(x) for x in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _line(key: str, value: Any, comment: str | None = None, *, off: bool = False) -> str:
    text = f"{'# ' if off else ''}{key} = {_toml(value)}"
    return f"{text:<34} # {comment}" if comment else text


def _path_value(p: Path, folder: Path, absolute: bool) -> str:
    if not absolute and p.is_relative_to(folder.resolve()):
        return p.relative_to(folder.resolve()).as_posix()
    return p.as_posix()


_LAYER_HEAD = {
    "boundaries": "Admin units (polygons): the study area, and the units of every per-unit "
                  "table.",
    "population": "Where people live: a raster of people per cell (e.g. WorldPop 100 m) or a "
                  "vector grid with a population column.",
    "facilities": "Existing health facilities, one per row; coordinates are converted to "
                  "WGS-84 on read.",
    "candidates": "Candidate sites for new facilities (community buildings, village "
                  "committees, land, ...).",
    "network": "Roads: travel times on foot, by e-bike and by car are computed on them.",
}

_CRS_NOTE = {
    "gcj02": "coordinates are GCJ-02 (Gaode/AutoNavi, Tencent), converted to WGS-84",
    "bd09": "coordinates are BD-09 (Baidu), converted to WGS-84",
    "EPSG:4326": "coordinates are WGS-84 lon/lat (GPS, OpenStreetMap)",
}


def _manifest_text(plan: InitPlan, *, absolute: bool) -> str:
    from geoplan import __version__

    folder = plan.folder
    out = [
        "# region.toml: a study region for geoplan (format: geoplan/inputs/region.py).",
        f"# Written by `geoplan init` (geoplan {__version__}). Each file below was read with "
        "geoplan's own",
        "# readers; the column names are those geoplan matched in the file's header. Edit "
        "any of them",
        "# (a wrong match, a column geoplan did not find), then check the region with:",
        f"#     geoplan inspect {folder.as_posix()}",
        "# Paths are relative to this file's folder (absolute for files outside it); the "
        "data files are",
        "# referenced, not copied.",
        "",
        _line("name", plan.name, "display name of the region (pages, summaries)"),
    ]
    if plan.name_zh:
        out.append(_line("name_zh", plan.name_zh, "Chinese name (pages in Chinese)"))
    else:
        out.append("# name_zh = \"某某县\"               # Chinese name for pages in Chinese "
                   "(default: name)")
    out += ["# crs = \"EPSG:32650\"               # output CRS in metres; default: the UTM "
            "zone of the boundaries"]
    for name, m in plan.layers.items():
        out += ["", f"[{name}]", f"# {_LAYER_HEAD[name]}"]
        if m.path is not None:
            out.append(_line("path", _path_value(m.path, folder, absolute),
                             "the file (relative to this folder, or absolute)"))
        out += _layer_lines(plan, m, absolute)
    return "\n".join(out) + "\n"


def _comment(text: str) -> list[str]:
    """A comment wrapped to the width of the file (continuation lines indented)."""
    import textwrap

    return textwrap.wrap(text, width=96, initial_indent="# ", subsequent_indent="#   ",
                         break_on_hyphens=False)


def _layer_lines(plan: InitPlan, m: LayerMatch, absolute: bool) -> list[str]:
    if m.layer == "network":
        return _network_lines(m)
    out = _option_lines(m)
    for key, col in m.columns.items():
        toml_key = "column" if m.layer == "population" else key
        out.append(_line(toml_key, col, _MEANING[(m.layer, key)]))
    if m.missing:
        out += _comment("not found in the header (optional): " + ", ".join(
            f"{k} ({_MEANING[(m.layer, k)].split(' (')[0]})" for k in m.missing))
    if "vocabulary" in m.options:
        out.append(_line("vocabulary", _path_value(m.options["vocabulary"], plan.folder,
                                                   absolute), "extra facility types (TOML)"))
    elif m.layer == "facilities":
        out.append("# vocabulary = \"my_types.toml\"    # extra facility types, as in "
                   "geoplan/inputs/facility_types.toml")
    return out + _found_lines(plan.facts, m) + [f"# {n}" for n in m.notes]


def _network_lines(m: LayerMatch) -> list[str]:
    if "place" not in m.options:
        return ["# formats: .osm, .osm.bz2, .osm.pbf (OpenStreetMap), .graphml (osmnx)"]
    return [_line("place", m.options["place"], "downloaded from OpenStreetMap with osmnx at "
                  "each load (online)"),
            "# osmnx keeps a copy of the download in ./cache; for offline, reproducible runs "
            "give an",
            "# extract instead: path = \"roads.osm.pbf\" (e.g. from download.geofabrik.de) "
            "in place of place."]


def _option_lines(m: LayerMatch) -> list[str]:
    """The ``crs``, ``encoding`` and ``values`` keys (given) or what was found (comments)."""
    out: list[str] = []
    opts = m.options
    if "crs" in opts:
        note = _CRS_NOTE.get(opts["crs"], "coordinate system of the file (given)")
        out.append(_line("crs", opts["crs"], note))
    elif m.layer in ("facilities", "candidates") and "lon" in m.columns:
        out.append("# crs = \"gcj02\"                   # not given: lon/lat read as WGS-84 "
                   "(GPS); Gaode/Tencent give \"gcj02\", Baidu \"bd09\"")
    else:
        out.append(f"# crs: {m.crs}")
    if "encoding" in opts:
        out.append(_line("encoding", opts["encoding"], "text encoding of the table (given)"))
    elif m.encoding:
        out.append(f"# encoding: {m.encoding}; geoplan detects UTF-8 and GBK/GB18030 itself, "
                   "set encoding = \"...\" for another")
    if "values" in opts:
        out.append(_line("values", opts["values"], "people per km², converted to people per "
                         "cell with each cell's area"))
    elif m.layer == "population":
        out.append("# values = \"counts\"                # people per cell (default); "
                   "\"density\" for people per km²")
    return out


def _found_lines(facts: RegionFacts | None, m: LayerMatch) -> list[str]:
    """Comments on what the layer holds: levels, types, the columns left unused."""
    out: list[str] = []
    used = set(m.columns.values())
    if facts is not None and m.layer == "candidates":
        if facts.site_type_column == "site_type":
            used.add("site_type")
            out += _comment("site types are read from the column \"site_type\" (by that "
                            "name): candidate_types / new_site_types in scenarios")
        if facts.site_types:
            out += _comment("site types found: " + ", ".join(
                f"{t} ({n})" for t, n in facts.site_types.items()))
    if facts is not None and m.layer == "boundaries":
        used |= set(facts.level_columns) | ({"level"} if facts.levels else set())
        out += _comment("per-unit levels a scenario may name (level = \"...\"): "
                        + ", ".join(facts.level_columns))
        if facts.levels:
            out += _comment("column \"level\" (urban/rural units): " + ", ".join(facts.levels))
    if facts is not None and m.layer == "facilities":
        out += _comment("facility types found: " + ", ".join(
            f"{code} ({n})" for code, n in facts.types.items()))
    unused = [c for c in m.header if c not in used]
    if unused:
        what = {"boundaries": "kept with the units", "candidates": "kept as they are"}
        out += _comment(f"other columns ({what.get(m.layer, 'not read')}): "
                        + ", ".join(unused))
    return out


# --------------------------------------------------------------------------- scenarios


@dataclass
class _Block:
    """A ``[[coverage]]`` or ``[[model]]`` table: comments, keys, and why it is left out."""

    table: str
    comments: list[str]
    items: list[tuple[str, Any, str | None, bool]]     # key, value, comment, commented out
    off: str | None = None

    def lines(self) -> list[str]:
        body = [f"[[{self.table}]]"] + [_line(k, v, c, off=o) for k, v, c, o in self.items]
        if self.off is None:
            return [f"# {c}" for c in self.comments] + body
        return ([f"# {c}" for c in self.comments]
                + _comment(f"LEFT OUT: {self.off}")
                + ["# To use it, fix that and remove the '# ' in front of the lines below."]
                + [f"# {ln}" for ln in body])     # optional keys stay commented


def _kv(key: str, value: Any, comment: str | None = None,
        off: bool = False) -> tuple[str, Any, str | None, bool]:
    return (key, value, comment, off)


@dataclass
class _Starter:
    """One starter scenario file."""

    stem: str
    intro: list[str]
    top: list[tuple[str, Any, str | None, bool]]
    blocks: list[_Block]

    @property
    def enabled(self) -> bool:
        return any(b.off is None for b in self.blocks)

    @property
    def file_name(self) -> str:
        return f"{self.stem}.toml" if self.enabled else f"{self.stem}.toml.disabled"

    def text(self) -> str:
        out = [f"# {c}" for c in self.intro]
        if not self.enabled:
            out += ["#", "# LEFT OUT: the region does not meet this scenario's needs (reasons "
                    "below), so the file",
                    "# ends in .disabled and `geoplan run` skips it. To use it: fix the data "
                    "or region.toml,",
                    "# remove the '# ' in front of the lines you want, and rename it to "
                    f"{self.stem}.toml."]
        top = [_line(k, v, c, off=o) for k, v, c, o in self.top]
        out += [""] + ([f"# {ln}" for ln in top] if not self.enabled else top)
        for b in self.blocks:
            out += [""] + b.lines()
        return "\n".join(out) + "\n"

    def only(self, block: _Block) -> _Starter:
        """Return the scenario with ``block`` alone (to find the one a check refuses)."""
        return replace(self, blocks=[block])


def _top(stem: str, name: str, name_zh: str, desc: str, desc_zh: str,
         lang: str) -> list[tuple[str, Any, str | None, bool]]:
    return [
        _kv("name", name, "shown on pages and in summaries"),
        _kv("name_zh", name_zh, "Chinese name"),
        _kv("description", desc),
        _kv("description_zh", desc_zh),
        _kv("region", "..", "the region folder (this file's parent): region.toml"),
        _kv("output", f"../outputs/{stem}", "results folder (relative to this file); "
            "geoplan run --out overrides it"),
        _kv("language", lang, "\"zh\" or \"en\": maps, report and workbook"),
        _kv("maps", True, "offline HTML maps"),
        _kv("report", True, "HTML report and XLSX workbook"),
    ]


def _types_note(facts: RegionFacts, codes: Sequence[str]) -> str:
    return ", ".join(f"{c} ({facts.types[c]})" for c in codes if c in facts.types)


def _rural(facts: RegionFacts) -> list[str]:
    return [lv for lv in facts.levels if lv in RURAL_LEVELS]


def _urban(facts: RegionFacts) -> list[str]:
    return [lv for lv in facts.levels if lv in URBAN_LEVELS]


def _no_sites(facts: RegionFacts) -> str | None:
    if facts.n_candidates == 0:
        return ("the region has no candidate sites: give --candidates FILE (sites where new "
                "facilities may go) to geoplan init, or add [candidates] to region.toml")
    if not facts.site_types:
        return ("the candidate sites have no site-type column (type / 类型 / site_type): add "
                "one, or name it under [candidates] in region.toml (type = \"COLUMN\")")
    return None


def _starters(facts: RegionFacts, lang: str) -> list[_Starter]:
    return [_s01(facts, lang), _s02(facts, lang), _s03(facts, lang), _s04(facts, lang),
            _s05(facts, lang)]


def _s01(facts: RegionFacts, lang: str) -> _Starter:
    stem = "01_insurance_15min"
    sites = list(facts.site_types)
    n_sites = sum(facts.site_types.values())
    has_isp = ISP in facts.types
    no_isp = (f"the facilities have no {ISP} (医保服务站) to measure: their types are "
              f"{', '.join(facts.types)}")
    existing = ([_kv("existing_types", [ISP], "service points there are today")] if has_isp
                else [_kv("existing_types", [ISP], "none in the facilities: every point "
                          "is new", off=True)])
    cov = _Block("coverage", ["Who reaches an insurance service point within 15 minutes "
                              "today, on foot and by e-bike?"],
                 [_kv("name", "insurance_today"), _kv("name_zh", "现状医保服务点覆盖"),
                  _kv("types", [ISP], "facility types counted"),
                  _kv("modes", ["walk", "ebike"]), _kv("minutes", [15])],
                 off=None if has_isp else no_isp)
    sc = _Block("model", ["Fewest new service points so that 95 % of residents, and at "
                          "least 85 % in every unit, are within 15 minutes by e-bike.",
                          "candidate_types: every site type of the candidates file (drop "
                          "those where a point may not go)."],
                [_kv("name", "fewest_points_95"), _kv("name_zh", "覆盖95%所需最少新增服务点"),
                 _kv("kind", "set_covering"), *existing,
                 _kv("candidate_types", sites or ["SITE TYPE"]),
                 _kv("mode", "ebike"), _kv("minutes", 15),
                 _kv("target_share", 0.95, "share of residents within 15 minutes"),
                 _kv("unit_min_share", 0.85, "and at least this share in every admin unit"),
                 _kv("time_limit", 20, "seconds; the best plan found and its bound are "
                     "reported")],
                off=_no_sites(facts))
    tr = _Block("model", ["What 1, 2, ... new points buy (coverage for each number of new "
                          "points)."],
                [_kv("name", "points_tradeoff"), _kv("name_zh", "新增服务点数与覆盖率"),
                 _kv("kind", "tradeoff"), *existing,
                 _kv("candidate_types", sites or ["SITE TYPE"]),
                 _kv("mode", "ebike"), _kv("minutes", 15),
                 _kv("p_max", max(1, min(12, n_sites)), "most new points on the curve"),
                 _kv("time_limit", 10)],
                off=_no_sites(facts))
    intro = ["15-minute medical-insurance service circle (15分钟医保服务圈).",
             "Who reaches a medical-insurance service point within 15 minutes today, on "
             "foot and by e-bike?",
             "What is the fewest number of new service points (at the candidate sites) so "
             "that 95 % of residents -",
             "and at least 85 % in every town and subdistrict - are within 15 minutes by "
             "e-bike?",
             f"Written by geoplan init from data/demo/scenarios/{stem}.toml; service points "
             f"found: {facts.types.get(ISP, 0)}.",
             "Format of every key: geoplan/scenario/spec.py."]
    top = _top(stem, "15-minute medical-insurance service circle", "15分钟医保服务圈",
               "Coverage of insurance service points today; fewest new points for 95 % "
               "(every unit ≥ 85 %).",
               "现有医保服务点的覆盖情况；覆盖95%人口（各单元不低于85%）"
               "所需的最少新增服务点。", lang)
    return _Starter(stem, intro, top, [cov, sc, tr])


def _s02(facts: RegionFacts, lang: str) -> _Starter:
    stem = "02_regional_centres"
    has_rrc, n_thc = RRC in facts.types, facts.types.get(THC, 0)
    rural = _rural(facts)
    no_thc = (None if n_thc else f"the facilities have no {THC} (乡镇卫生院) to upgrade: their "
              f"types are {', '.join(facts.types)}")
    existing = [_kv("existing_types", [RRC], "regional centres there are today" if has_rrc
                    else "none in the facilities file", off=not has_rrc)]
    demand = ([_kv("demand_levels", rural, "only residents of rural units (the boundaries' "
                   "level column)")] if rural else
              [_kv("demand_levels", ["town"], "the boundaries have no level column with "
                   "rural units: every resident counts", off=True)])
    cov = _Block("coverage", ["Who reaches a rural regional medical centre within 30 minutes "
                              "by car today?"],
                 [_kv("name", "regional_today"), _kv("name_zh", "现状区域医疗中心覆盖"),
                  _kv("types", [RRC]), _kv("modes", ["drive"]), _kv("minutes", [30])],
                 off=None if has_rrc else f"the facilities have no {RRC} "
                     "(农村区域性医疗卫生中心) to measure")
    p3 = max(1, min(3, n_thc))
    med = _Block("model", [f"Upgrade {p3} township health centres so rural residents' mean drive "
                           "to a regional centre is shortest."],
                 [_kv("name", f"upgrade_{p3}_median"),
                  _kv("name_zh", f"升级{p3}个乡镇卫生院（平均驾车时间最短）"),
                  _kv("kind", "p_median"), *existing,
                  _kv("upgrade_types", [THC], f"facilities that may be upgraded ({n_thc} "
                      "in the region)"),
                  *demand, _kv("mode", "drive"),
                  _kv("minutes", 60, "trips longer than this count as unreachable"),
                  _kv("p", p3, "upgrades")],
                 off=no_thc)
    cover = _Block("model", ["Fewest upgrades so that 95 % of rural residents are within 30 "
                             "minutes by car."],
                   [_kv("name", "upgrade_cover_30"),
                    _kv("name_zh", "30分钟覆盖95%农村人口的最少升级"),
                    _kv("kind", "set_covering"), *existing, _kv("upgrade_types", [THC]),
                    *demand, _kv("mode", "drive"), _kv("minutes", 30),
                    _kv("target_share", 0.95)],
                   off=no_thc)
    intro = ["Rural regional medical centres (农村区域性医疗卫生中心).",
             "Which township health centres should be upgraded so that rural residents "
             "reach a regional centre",
             "within 30 minutes by car? The p-median (3 upgrades minimising the mean drive) "
             "and the covering",
             "variant (fewest upgrades for 95 %; geoplan says so when 95 % is out of reach).",
             f"Written by geoplan init from data/demo/scenarios/{stem}.toml; township "
             f"centres found: {n_thc}, regional centres: {facts.types.get(RRC, 0)}; rural "
             f"levels: {', '.join(rural) or 'none'}."]
    top = _top(stem, "Rural regional medical centres", "农村区域性医疗卫生中心布局",
               "Upgrade township health centres so rural residents reach a regional centre "
               "within 30 minutes by car.",
               "升级乡镇卫生院，使农村居民驾车30分钟内到达区域医疗中心。", lang)
    return _Starter(stem, intro, top, [cov, med, cover])


def _district_level(facts: RegionFacts) -> str:
    if "district_code" in facts.level_columns:
        return "district_code"
    others = [c for c in facts.level_columns if c != "admin_code"]
    return others[0] if others else "admin_code"


def _s03(facts: RegionFacts, lang: str) -> _Starter:
    stem = "03_beds_7_per_1000"
    hospitals = [t for t in BED_TYPES if t in facts.types]
    level = _district_level(facts)
    if not facts.has_beds:
        off = ("the facilities have no bed column (beds / 床位数 / 编制床位 / 实有床位 / "
               "开放床位): "
               "add one, or name it under [facilities] in region.toml (beds = \"COLUMN\") or "
               "with --facilities-columns beds=COLUMN")
    elif not hospitals:
        off = (f"the facilities have no hospitals to add beds to (types {', '.join(BED_TYPES)});"
               f" their types are {', '.join(facts.types)}")
    else:
        off = None
    land = "township land" in facts.site_types
    new_sites = ([_kv("new_site_types", ["township land"], "candidate sites where a new "
                      "hospital may open")] if land else
                 [_kv("new_site_types", list(facts.site_types) or ["SITE TYPE"],
                      "pick the candidate site types where a new hospital may open", off=True)])
    model = _Block("model", [f"level = \"{level}\": the target holds in every unit of this "
                             "boundary column.",
                             "Costs in 10,000 yuan (万元); change them to your own."],
                   [_kv("name", "beds_to_7"), _kv("name_zh", "各区每千人口床位数达到7张"),
                    _kv("kind", "beds_to_ratio"), _kv("level", level),
                    _kv("ratio", 7.0, "beds per 1,000 residents"),
                    _kv("hospital_types", hospitals or list(BED_TYPES),
                        "facilities that may add beds"),
                    _kv("cost_per_bed", 60.0), _kv("max_add_share", 0.5, "at most +50 % of "
                                                   "a hospital's beds"),
                    *new_sites, _kv("new_site_fixed_cost", 8000.0),
                    _kv("new_site_min_beds", 100), _kv("new_site_max_beds", 500)],
                   off=off)
    intro = ["Hospital beds: every district at least 7 beds per 1,000 residents "
             "(每千人口床位数 ≥ 7).",
             "Beds can be added at existing hospitals (up to 50 % of their current size) or "
             "in new hospitals",
             "on candidate land (fixed cost plus per-bed cost). Costs in 10,000 yuan (万元).",
             f"Written by geoplan init from data/demo/scenarios/{stem}.toml; hospitals "
             f"found: {_types_note(facts, hospitals) or 'none'}."]
    top = _top(stem, "Beds per 1,000 residents to 7 in every district", "各区每千人口床位数达到7张",
               "Least-cost bed additions and new hospitals so every district reaches 7 beds "
               "per 1,000.", "以最低费用扩建床位和新建医院，使各区每千人口床位数达到7张。", lang)
    return _Starter(stem, intro, top, [model])


def _s04(facts: RegionFacts, lang: str) -> _Starter:
    stem = "04_function_centres"
    hosts = [t for t in HOST_TYPES if t in facts.types]
    n_hosts = sum(facts.types[t] for t in hosts)
    total = max(1, min(9, n_hosts))
    model = _Block("model", ["centre_types are names of your own (one per kind of centre); "
                             "total = how many centres in all."],
                   [_kv("name", f"function_centres_{total}"), _kv("name_zh", f"{total}个功能中心"),
                    _kv("kind", "function_centres"),
                    _kv("centre_types", ["endoscopy", "rehabilitation_pain", "dialysis"]),
                    _kv("host_types", hosts or list(HOST_TYPES), f"hosts ({n_hosts} in the "
                        "region)"),
                    _kv("mode", "drive"), _kv("minutes", 30),
                    _kv("total", total, "centres in all"),
                    _kv("max_types_per_host", 1), _kv("min_share", 0.6, "each kind within 30 "
                                                      "minutes of at least 60 %")],
                   off=None if hosts else "the facilities have no hospitals or township "
                       f"centres to host a centre; their types are {', '.join(facts.types)}")
    intro = ["Function centres (功能中心): endoscopy, rehabilitation/pain and dialysis centres "
             "at eligible hosts",
             "(hospitals, regional centres and township health centres), 9 in all, at most "
             "one kind per host,",
             "maximising the residents within 30 minutes by car of each kind.",
             f"Written by geoplan init from data/demo/scenarios/{stem}.toml; hosts found: "
             f"{_types_note(facts, hosts) or 'none'}."]
    top = _top(stem, "Function centres", "功能中心布局",
               "Place 9 endoscopy / rehabilitation-pain / dialysis centres at eligible hosts.",
               "在符合条件的医院布局9个内镜、康复疼痛、透析中心。", lang)
    return _Starter(stem, intro, top, [model])


def _s05(facts: RegionFacts, lang: str) -> _Starter:
    stem = "05_emergency_stations"
    sites = list(facts.site_types)
    n_sites = sum(facts.site_types.values())
    has_ems = EMS in facts.types
    urban = _urban(facts)
    existing = [_kv("existing_types", [EMS], "stations there are today" if has_ems
                    else "none in the facilities file", off=not has_ems)]
    cov = _Block("coverage", ["Who is within 12 and 20 minutes' drive of an emergency "
                              "station today?"],
                 [_kv("name", "emergency_today"), _kv("name_zh", "现状急救站覆盖"),
                  _kv("types", [EMS]), _kv("modes", ["drive"]), _kv("minutes", [12, 20])],
                 off=None if has_ems else f"the facilities have no {EMS} (院前急救站) to "
                     "measure")
    urban_items = ([] if urban in (["subdistrict"], []) else
                   [_kv("urban_levels", urban, "units of these levels are urban")])
    if _no_sites(facts):
        std_off = _no_sites(facts)
    elif not urban:
        std_off = ("the boundaries have no 'level' column naming urban units (subdistrict / "
                   "街道), so urban and rural residents cannot be told apart: add one, or use "
                   "the p-center model below alone")
    else:
        std_off = None
    std = _Block("model", ["Fewest new stations so that 95 % of residents are within their "
                           "own standard (urban 12 / rural 20 minutes)."],
                 [_kv("name", "stations_standards"),
                  _kv("name_zh", "城区12分钟、农村20分钟急救标准"),
                  _kv("kind", "p_center"), *existing,
                  _kv("candidate_types", sites or ["SITE TYPE"]),
                  _kv("mode", "drive"), _kv("minutes", 40, "longest trip considered"),
                  _kv("urban_minutes", 12), _kv("rural_minutes", 20), *urban_items,
                  _kv("target_share", 0.95)],
                 off=std_off)
    p = max(1, min(16, n_sites))
    pc = _Block("model", [f"With {p} new stations, make the worst-served resident's drive as "
                          "short as possible."],
                [_kv("name", f"stations_p_center_{p}"),
                 _kv("name_zh", f"{p}个急救站，最远驾车时间最短"),
                 _kv("kind", "p_center"), *existing,
                 _kv("candidate_types", sites or ["SITE TYPE"]),
                 _kv("mode", "drive"), _kv("minutes", 40), _kv("p", p, "new stations")],
                off=_no_sites(facts))
    intro = ["Pre-hospital emergency stations (院前急救站): urban residents within 12 minutes "
             "and rural residents",
             "within 20 minutes of a station by ambulance (drive). Covering variant: the "
             "fewest new stations",
             "for 95 % within their own standard; p-center variant: the worst drive as short "
             "as possible.",
             f"Written by geoplan init from data/demo/scenarios/{stem}.toml; stations found: "
             f"{facts.types.get(EMS, 0)}; urban levels: {', '.join(urban) or 'none'}."]
    top = _top(stem, "Pre-hospital emergency stations", "院前急救站布局",
               "New emergency stations: urban ≤ 12 min, rural ≤ 20 min (covering and "
               "p-center).",
               "新增院前急救站：城区不超过12分钟，农村不超过20分钟（覆盖模型与p中心模型）。",
               lang)
    return _Starter(stem, intro, top, [cov, std, pc])


# --------------------------------------------------------------------------- checks


@contextlib.contextmanager
def check_copy(plan: InitPlan) -> Iterator[Path]:
    """A temporary copy of the region (manifest with absolute paths, and the scenarios)
    for checks before anything is written; yields its ``region.toml``."""
    with tempfile.TemporaryDirectory(prefix="geoplan-init-") as tmp:
        root = Path(tmp)
        (root / "region.toml").write_text(plan.manifest_text(absolute=True), encoding="utf-8")
        (root / "scenarios").mkdir()
        for name, text in plan.scenarios.items():
            (root / "scenarios" / name).write_text(text, encoding="utf-8")
        yield root / "region.toml"


def _facts(region: Any, layers: Mapping[str, LayerMatch]) -> RegionFacts:
    from geoplan.scenario.resolve import _site_type_column

    fac = region.facilities
    counts = fac["type"].value_counts()
    order = list(region.vocabulary.types)
    types = {c: int(counts[c]) for c in sorted(counts.index, key=lambda c: (
        order.index(c) if c in order else len(order), c))}
    cand = region.candidates
    site_types: dict[str, int] = {}
    col = None
    if cand is not None and len(cand):
        col = _site_type_column(cand)
        values = cand[col].dropna().astype(str).str.strip()
        values = values[values != ""]
        if len(values):
            vc = values.value_counts()
            site_types = {str(k): int(vc[k]) for k in sorted(vc.index, key=lambda k: (-vc[k], k))}
        else:
            col = None
    b = region.boundaries
    level_cols = ["admin_code"] + [c for c in b.columns if str(c).endswith("_code")
                                   and c != "admin_code"]
    levels = ([str(x) for x in dict.fromkeys(b["level"].dropna().astype(str))]
              if "level" in b.columns else [])
    return RegionFacts(types=types, has_beds="beds" in layers["facilities"].columns,
                       site_types=site_types, site_type_column=col,
                       n_candidates=0 if cand is None else len(cand),
                       level_columns=level_cols, levels=levels)


def _load_cheap(manifest: Path, layers: Mapping[str, LayerMatch]) -> Any:
    """Boundaries, facilities and candidates of the check copy, read by the readers; a
    missing bed column is named with the init option that fixes it."""
    from geoplan.inputs.region import load_region

    try:
        return load_region(manifest, layers=("facilities", "candidates"))
    except GeoplanInputError as exc:
        fac = layers["facilities"].path
        if exc.field == "beds" and exc.path == str(fac) and "missing" in exc.reason:
            raise GeoplanInputError(
                f"{exc.reason}; columns found: {', '.join(layers['facilities'].header)}",
                path=exc.path, row=exc.row, field="beds",
                hint="name the bed column: --facilities-columns beds=COLUMN (it is then "
                     "written to region.toml, where you can edit it)") from None
        raise


def _validate(starters: list[_Starter], tmp: Path) -> None:
    """Read every starter with geoplan's scenario reader (the checks of ``geoplan run``);
    a question it refuses is left out with the reader's message."""
    from geoplan.scenario.spec import read_scenario

    folder = tmp / "scenarios"
    folder.mkdir(exist_ok=True)

    def check(st: _Starter) -> GeoplanInputError | None:
        p = folder / f"{st.stem}.toml"
        p.write_text(st.text(), encoding="utf-8")
        try:
            read_scenario(p)
        except GeoplanInputError as exc:
            return exc
        return None

    for st in starters:
        while st.enabled:
            exc = check(st)
            if exc is None:
                break
            culprit = None
            for b in [b for b in st.blocks if b.off is None]:
                alone = check(st.only(b))
                if alone is not None:
                    culprit = (b, alone)
                    break
            if culprit is None:      # each part passes alone, the whole does not
                raise GeoplanInputError(
                    f"geoplan init wrote a starter scenario its own check refuses: "
                    f"{exc.reason}", path=f"scenarios/{st.stem}.toml", field=exc.field,
                    hint="please report this; meanwhile pass --force after removing the "
                         "question from the scenario") from None
            b, err = culprit
            b.off = f"geoplan's check at load refused it: {err.reason}" + (
                f" ({err.hint})" if err.hint else "")


def plan_init(
    folder: str | Path,
    *,
    facilities: Any = None,
    population: Any = None,
    boundaries: Any = None,
    roads: Any = None,
    place: str | None = None,
    candidates: Any = None,
    crs: str | None = None,
    layer_crs: Mapping[str, str | None] | None = None,
    encoding: str | None = None,
    columns: Mapping[str, Mapping[str, str]] | None = None,
    values: str = "counts",
    vocabulary: Any = None,
    name: str | None = None,
    lang: str = "en",
    force: bool = False,
) -> InitPlan:
    """Match every layer, read the cheap ones and check the starter scenarios.

    Nothing is written (checks run in a temporary copy). Pass the result to
    :func:`write_init` after loading the whole region (``check_copy``) if wanted.

    Parameters
    ----------
    folder
        The region folder to write (``region.toml``, ``scenarios/``).
    facilities, population, boundaries, candidates
        The layers' files (candidates optional).
    roads, place
        The road network: a file, or a place name for osmnx (online).
    crs
        Coordinates of the point layers (facilities, candidates): ``gcj02``, ``bd09``,
        ``wgs84`` or an EPSG code.
    layer_crs
        Per-layer CRS (``facilities``, ``candidates``: their coordinates; ``boundaries``,
        ``population``: for files without a CRS of their own); overrides ``crs``.
    encoding
        Text encoding of the tables (default: detected, UTF-8 or GBK/GB18030).
    columns
        Layer -> {key: column} given by the user (:data:`COLUMN_KEYS`).
    values
        Population raster values: ``counts`` or ``density``.
    vocabulary
        TOML file of extra facility types.
    name
        Region name (default: the folder's name); pages in Chinese show it too.
    lang
        Language of the starter scenarios' pages (``zh`` or ``en``).
    force
        Replace an existing ``region.toml`` and starter scenarios.

    Returns
    -------
    InitPlan

    Raises
    ------
    GeoplanInputError
        ``region.toml`` (or a starter scenario) exists without ``force``; a layer not
        given, missing, unreadable or of an unknown format; a required column that
        matches nothing (naming the columns found and ``--<layer>-columns``); roads and
        place both or neither; any reader's error on the cheap layers.
    """
    target = Path(folder).expanduser().absolute()
    if target.exists() and not target.is_dir():
        raise GeoplanInputError("the region folder is an existing file", path=target,
                                hint="give a folder (it is created if missing)")
    _refuse_existing(target, force, ("region.toml",))
    per = dict(layer_crs or {})
    cols = {k: dict(v) for k, v in (columns or {}).items()}
    for layer, value, flag in (("facilities", facilities, "--facilities"),
                               ("population", population, "--population"),
                               ("boundaries", boundaries, "--boundaries")):
        if value is None:
            raise GeoplanInputError(f"no {layer} file given", field=flag,
                                    hint=f"give {flag} FILE (geoplan init --help lists the "
                                         "formats)")
    layers: dict[str, LayerMatch] = {}
    layers["boundaries"] = _match_boundaries(boundaries, per.get("boundaries"),
                                             cols.get("boundaries", {}))
    layers["population"] = _match_population(population, per.get("population"), encoding,
                                             cols.get("population", {}), values)
    def flag(layer: str) -> str:
        return f"--{layer}-crs" if per.get(layer) else "--crs"

    layers["facilities"] = _match_points("facilities", facilities,
                                         per.get("facilities") or crs, encoding,
                                         cols.get("facilities", {}), vocabulary,
                                         flag("facilities"))
    if candidates is not None:
        layers["candidates"] = _match_points("candidates", candidates,
                                             per.get("candidates") or crs, encoding,
                                             cols.get("candidates", {}), None,
                                             flag("candidates"))
    elif cols.get("candidates"):
        raise GeoplanInputError("--candidates-columns given without --candidates",
                                field="--candidates", hint="give --candidates FILE")
    layers["network"] = _match_network(roads, place)
    region_name = name.strip() if name and name.strip() else target.name or "region"
    plan = InitPlan(folder=target, layers=layers, name=region_name, name_zh=None, force=force)
    with check_copy(plan) as manifest, warnings.catch_warnings():
        warnings.simplefilter("ignore", GeoplanWarning)   # shown once, by the full load
        region = _load_cheap(manifest, layers)
        plan.facts = _facts(region, layers)
        starters = _starters(plan.facts, lang)
        _validate(starters, manifest.parent)
    plan.scenarios = {st.file_name: st.text() for st in starters}
    plan.left_out = {st.file_name: [b.off for b in st.blocks if b.off] for st in starters}
    _refuse_existing(target, force, [f"scenarios/{st.stem}{suffix}" for st in starters
                                     for suffix in (".toml", ".toml.disabled")])
    return plan


def _refuse_existing(folder: Path, force: bool, names: Sequence[str]) -> None:
    if force:
        return
    for name in names:
        p = folder / name
        if p.exists():
            raise GeoplanInputError(
                f"{name} exists already in the region folder", path=p,
                hint="pass --force to replace it (and the starter scenarios), or choose "
                     "another folder")


def write_init(plan: InitPlan) -> list[Path]:
    """Write ``region.toml`` and the starter scenarios: every file, or none.

    With ``force``, the other spelling of a starter (``X.toml`` / ``X.toml.disabled``)
    left by an earlier init is removed, so ``geoplan run`` does not pick up a stale one.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    GeoplanInputError
        ``region.toml`` appeared meanwhile (without ``force``), or the folder cannot be
        written (named, with what to do).
    """
    from geoplan._atomic import staged_files

    files = plan.files()
    _refuse_existing(plan.folder, plan.force, list(files))
    with staged_files(plan.folder) as stage:
        for rel, text in files.items():
            p = stage / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
    if plan.force:
        for name in plan.scenarios:
            stem = name.removesuffix(".disabled").removesuffix(".toml")
            for other in (f"{stem}.toml", f"{stem}.toml.disabled"):
                if other != name:
                    with contextlib.suppress(FileNotFoundError):
                        (plan.folder / "scenarios" / other).unlink()
    return [plan.folder / rel for rel in files]


def describe(plan: InitPlan) -> list[str]:
    """Lines of what was matched, per layer (file, columns, CRS, encoding)."""
    out = []
    for name, m in plan.layers.items():
        what = str(m.path) if m.path is not None else f"place {m.options['place']!r} (online)"
        out.append(f"  {name:<12} {what}")
        details = [f"crs {m.crs}"] if m.crs else []
        if m.encoding:
            details.append(f"encoding {m.encoding}")
        if m.columns:
            details.append("columns " + ", ".join(
                f"{'column' if name == 'population' else k}={c}" for k, c in m.columns.items()))
        if m.missing:
            details.append("not found: " + ", ".join(m.missing))
        if details:
            out.append(" " * 15 + "; ".join(details))
    return out

"""A study region: all input layers read once, validated, in one CRS, tagged by admin unit.

A region is described by a small TOML manifest (``region.toml``) naming its files and
reader options, so a folder of data can be loaded with one call::

    name = "Qingshan (synthetic demo city)"
    crs = "EPSG:32649"            # optional: output CRS (default: UTM of the boundaries)
    [boundaries]
    path = "boundaries.geojson"
    code = "code"                 # optional column names
    name = "name"
    crs = "gcj02"                 # e.g. DataV boundaries: every vertex to WGS-84
    [population]
    path = "population.tif"       # or a vector grid; column = "pop"
    [facilities]
    path = "facilities.csv"
    crs = "gcj02"                 # coordinates copied from Gaode
    [candidates]
    path = "candidates.csv"
    crs = "gcj02"
    cost = "建设费用万元"          # column keys: see FACILITY_FIELDS / CANDIDATE_FIELDS
    [network]
    path = "roads.osm.bz2"        # or place = "Some County, China" (online)

Paths are relative to the manifest. Every section except ``boundaries`` is optional;
without boundaries the study area is the extent of the population layer. Each layer's
``crs`` reaches its reader (:mod:`geoplan.inputs.readers`), which records the input's
system in the layer's ``attrs["source_crs"]``; the column keys of ``[facilities]`` and
``[candidates]`` are their readers' fields (``readers.FACILITY_FIELDS``,
``readers.CANDIDATE_FIELDS``), any other key is refused.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from geoplan._errors import GeoplanInputError
from geoplan.inputs.facility_types import Vocabulary, load_vocabulary
from geoplan.inputs.readers import (
    CANDIDATE_FIELDS,
    FACILITY_FIELDS,
    read_boundaries,
    read_candidates,
    read_facilities,
    read_network,
    read_population,
)
from geoplan.inputs.studyarea import StudyArea

__all__ = ["LAYERS", "Region", "load_region", "read_manifest"]

LAYERS = ("boundaries", "population", "facilities", "candidates", "network")

#: Column keys of each point layer's table: the fields of its reader (a key a reader has
#: no field for would be ignored, so it is an unknown key here).
_COLUMN_KEYS: dict[str, tuple[str, ...]] = {"facilities": FACILITY_FIELDS,
                                            "candidates": CANDIDATE_FIELDS}
_ALLOWED: dict[str, set[str]] = {
    "": {"name", "name_zh", "crs", "description", "demand_layers", *LAYERS},
    "boundaries": {"path", "code", "name", "crs", "layer"},
    "population": {"path", "column", "crs", "values", "layer", "encoding", "density_limit"},
    "facilities": {"path", "crs", "layer", "encoding", "vocabulary", *FACILITY_FIELDS},
    "candidates": {"path", "crs", "layer", "encoding", *CANDIDATE_FIELDS},
    "network": {"path", "place", "bbox"},
}
#: Keys of one ``[demand_layers.<name>]`` table: another population grid of the region
#: (e.g. residents aged 65+), read like [population] and aligned with it cell by cell.
_DEMAND_KEYS = {"path", "name", "name_zh", "column", "crs", "values", "layer", "encoding"}


@dataclass
class Region:
    """All layers of a study region, in one metric CRS.

    Attributes
    ----------
    name
        Display name.
    area
        CRS and outline.
    boundaries, population, facilities, candidates
        GeoDataFrames from the readers in :mod:`geoplan.inputs.readers` (``None`` if not loaded).
    network
        Road graph from :func:`geoplan.inputs.readers.read_network` (``None`` if not loaded).
    vocabulary
        Facility types in use.
    manifest
        The manifest file the region came from, if any.
    demand_layers
        Further population layers (``[demand_layers.<key>]``): key -> ``{"name",
        "name_zh"}``; each is a column ``demand_<key>`` of ``population`` (people of that
        group per cell, on the same cells).
    """

    name: str
    area: StudyArea
    boundaries: gpd.GeoDataFrame | None = None
    population: gpd.GeoDataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    candidates: gpd.GeoDataFrame | None = None
    network: nx.MultiDiGraph | None = None
    vocabulary: Vocabulary = field(default_factory=load_vocabulary)
    manifest: Path | None = None
    name_zh: str | None = None
    demand_layers: dict[str, dict[str, str]] = field(default_factory=dict)


def read_manifest(path: str | Path) -> tuple[dict[str, Any], Path]:
    """Read and check a region manifest; return it with paths made absolute.

    Parameters
    ----------
    path
        A ``region.toml`` file, or a folder containing one.

    Returns
    -------
    tuple
        The manifest as a dict and the manifest's path.

    Raises
    ------
    GeoplanInputError
        Missing file, TOML syntax error (with line), unknown section or key, wrong type
        (options such as ``crs`` and ``encoding`` are texts; ``values`` counts or density).
    """
    p = Path(path)
    if p.is_dir():
        p = p / "region.toml"
    if not p.is_file():
        raise GeoplanInputError("region manifest not found", path=p,
                                hint="give a folder containing region.toml, or the .toml file")
    if p.suffix.lower() != ".toml":
        raise GeoplanInputError("this is not a region: a region is a folder with a "
                                "region.toml (or that .toml file)", path=p,
                                hint="give the region folder, e.g. data/demo, not one of "
                                     "its data files")
    try:
        manifest = tomllib.loads(p.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise GeoplanInputError(f"TOML syntax error: {exc}", path=p,
                                hint="fix the line named above") from None
    except UnicodeDecodeError:
        raise GeoplanInputError("manifest is not UTF-8 text", path=p,
                                hint="save it as UTF-8") from None
    _check_demand_layers(manifest.get("demand_layers"), p)
    for key, value in manifest.items():
        if key not in _ALLOWED[""]:
            raise GeoplanInputError(f"unknown key '{key}'", path=p, field=key,
                                    hint=f"allowed: {', '.join(sorted(_ALLOWED['']))}")
        if key in LAYERS:
            if not isinstance(value, dict):
                raise GeoplanInputError(f"'{key}' must be a table ([{key}])", path=p, field=key,
                                        hint=f"write [{key}] then path = \"...\"")
            for sub in value:
                if sub not in _ALLOWED[key]:
                    raise GeoplanInputError(
                        f"unknown key '{sub}' in [{key}]", path=p, field=f"{key}.{sub}",
                        hint=f"allowed: {', '.join(sorted(_ALLOWED[key]))}")
            for sub, val in value.items():      # options are texts (bbox, limit: numbers)
                if sub in ("bbox", "density_limit", "path", "vocabulary"):
                    continue
                if not isinstance(val, str) or not val.strip():
                    raise GeoplanInputError(
                        f"'{key}.{sub}' must be a text in quotes, got {val!r}", path=p,
                        field=f"{key}.{sub}", hint=f'write {sub} = "..." (e.g. crs = '
                        '"EPSG:4326", encoding = "gbk")')
            if value.get("values", "counts") not in ("counts", "density"):
                raise GeoplanInputError(
                    f"'{key}.values' = {value['values']!r} is not counts or density", path=p,
                    field=f"{key}.values", hint='write values = "counts" (people per cell) '
                    'or "density" (people per km²)')
            for sub in ("path", "vocabulary"):
                if sub in value:
                    if not isinstance(value[sub], str):
                        raise GeoplanInputError(f"'{key}.{sub}' must be a string", path=p,
                                                field=f"{key}.{sub}", hint="quote the path")
                    value[sub] = str((p.parent / value[sub]).resolve())
    return manifest, p


def _check_demand_layers(value: Any, p: Path) -> None:
    """``[demand_layers.<key>]`` tables: keys, texts, paths made absolute."""
    if value is None:
        return
    if not isinstance(value, dict):
        raise GeoplanInputError("'demand_layers' must be tables ([demand_layers.age65])",
                                path=p, field="demand_layers",
                                hint='write [demand_layers.age65] then path = "..."')
    for key, sec in value.items():
        where = f"demand_layers.{key}"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key) or key == "total":
            raise GeoplanInputError(f"demand layer name '{key}' must be lower-case letters, "
                                    "digits and _ (and not 'total')", path=p, field=where,
                                    hint="e.g. [demand_layers.age65]")
        if not isinstance(sec, dict) or "path" not in sec:
            raise GeoplanInputError(f"[{where}] needs a path", path=p, field=where,
                                    hint='write path = "population_65plus.tif"')
        for sub, val in sec.items():
            if sub not in _DEMAND_KEYS:
                raise GeoplanInputError(f"unknown key '{sub}' in [{where}]", path=p,
                                        field=f"{where}.{sub}",
                                        hint=f"allowed: {', '.join(sorted(_DEMAND_KEYS))}")
            if not isinstance(val, str) or not val.strip():
                raise GeoplanInputError(f"'{where}.{sub}' must be a text in quotes", path=p,
                                        field=f"{where}.{sub}")
        if sec.get("values", "counts") not in ("counts", "density"):
            raise GeoplanInputError(f"'{where}.values' is not counts or density", path=p,
                                    field=f"{where}.values")
        sec["path"] = str((p.parent / sec["path"]).resolve())


def _demand_layers(manifest: dict[str, Any], population: gpd.GeoDataFrame,
                   area: StudyArea, boundaries: Any, to_crs: Any,
                   note: Callable[[str], None]) -> dict[str, dict[str, str]]:
    """Read each demand layer and add it to ``population`` as ``demand_<key>``.

    The layer must lie on the population grid (same cells): people on a cell the total
    grid does not have are refused; a cell with more people in the layer than in total
    is named in a warning (a group cannot outnumber everyone).
    """
    import warnings

    from geoplan._errors import GeoplanWarning
    out: dict[str, dict[str, str]] = {}
    for key, sec in (manifest.get("demand_layers") or {}).items():
        note(f"demand layer {key}")
        layer = read_population(sec["path"], to_crs=to_crs, area=area, boundaries=boundaries,
                                **_opts(sec, ("column", "crs", "values", "layer", "encoding")))
        # cells are matched by their centres (to a millimetre): the same grid gives the
        # same centres, whatever each file's own row and column numbers
        def centres(g: gpd.GeoDataFrame) -> pd.MultiIndex:
            c = g.geometry.centroid
            return pd.MultiIndex.from_arrays([np.round(c.x.to_numpy(), 3),
                                              np.round(c.y.to_numpy(), 3)])
        idx, lidx = centres(population), centres(layer)
        vals = pd.Series(layer["population"].to_numpy(float), index=lidx)
        outside = ~lidx.isin(idx)
        lost = float(vals[outside].sum())
        if lost > 0.5:
            raise GeoplanInputError(
                f"demand layer '{key}' has {lost:,.0f} people on {int(outside.sum()):,} cells "
                "the population grid does not have", path=Path(sec["path"]),
                field=f"demand_layers.{key}",
                hint="give a layer on the same grid (transform and size) as [population]")
        col = vals.reindex(idx).fillna(0.0).to_numpy()
        total = population["population"].to_numpy(float)
        over = col > total * (1 + 1e-6) + 1e-6
        if over.any():
            warnings.warn(f"demand layer '{key}': {int(over.sum()):,} cells hold more people "
                          f"than the total population layer ({Path(sec['path']).name}); "
                          "check the two files are of the same year and unit",
                          GeoplanWarning, stacklevel=3)
        population[f"demand_{key}"] = col
        out[key] = {"name": sec.get("name", key), "name_zh": sec.get("name_zh",
                                                                     sec.get("name", key))}
    return out


def _opts(section: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {k: section[k] for k in names if k in section}


def load_region(
    path: str | Path,
    *,
    layers: Iterable[str] = LAYERS,
    progress: Callable[[str], None] | None = None,
) -> Region:
    """Load every layer named in a region manifest.

    Parameters
    ----------
    path
        ``region.toml`` or the folder holding it.
    layers
        Which layers to load (default all present); ``boundaries`` are always loaded
        when present because they define the study area.
    progress
        Called with the name of each layer before it is read (e.g. to update a bar).

    Returns
    -------
    Region

    Raises
    ------
    GeoplanInputError
        From the manifest or any reader.
    """
    manifest, mpath = read_manifest(path)
    wanted = set(layers)
    note = progress or (lambda _name: None)
    to_crs = manifest.get("crs")
    boundaries = None
    area: StudyArea | None = None
    if "boundaries" in manifest:
        note("boundaries")
        sec = manifest["boundaries"]
        boundaries = read_boundaries(sec["path"], to_crs=to_crs,
                                     **_opts(sec, ("code", "name", "crs", "layer")))
        area = StudyArea.from_geodataframe(boundaries, crs=boundaries.crs)
    population = None
    if "population" in manifest and "population" in wanted:
        note("population")
        sec = manifest["population"]
        population = read_population(
            sec["path"], to_crs=to_crs, area=area, boundaries=boundaries,
            **_opts(sec, ("column", "crs", "values", "layer", "encoding", "density_limit")))
        if area is None:
            area = StudyArea(crs=population.crs, outline=population.union_all().convex_hull)
    demand_layers = {}
    if population is not None and manifest.get("demand_layers"):
        assert area is not None
        demand_layers = _demand_layers(manifest, population, area, boundaries, to_crs, note)
    if area is None:
        raise GeoplanInputError("the manifest needs [boundaries] or [population] to define the "
                                "study area", path=mpath, hint="add a [boundaries] section")
    vocabulary = load_vocabulary(manifest.get("facilities", {}).get("vocabulary"))
    layers_out: dict[str, Any] = {}
    for name, reader in (("facilities", read_facilities), ("candidates", read_candidates)):
        if name in manifest and name in wanted:
            note(name)
            sec = manifest[name]
            cols = {k: sec[k] for k in _COLUMN_KEYS[name] if k in sec}
            extra = {"vocabulary": vocabulary} if name == "facilities" else {}
            layers_out[name] = reader(sec["path"], area=area, boundaries=boundaries,
                                      columns=cols, **_opts(sec, ("crs", "layer", "encoding")),
                                      **extra)
    network = None
    if "network" in manifest and "network" in wanted:
        note("network")
        sec = manifest["network"]
        bbox = tuple(sec["bbox"]) if "bbox" in sec else None
        network = read_network(sec.get("path") or sec.get("place"), bbox=bbox, area=area)
    return Region(
        name=str(manifest.get("name", mpath.parent.name)), name_zh=manifest.get("name_zh"),
        area=area, boundaries=boundaries, population=population,
        facilities=layers_out.get("facilities"), candidates=layers_out.get("candidates"),
        network=network, vocabulary=vocabulary, manifest=mpath,
        demand_layers=demand_layers,
    )
